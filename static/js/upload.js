// The upload form: files dropped on the drop zone join the file input (and are listed), and the form is
// sent with XMLHttpRequest so that the page shows how much of it has been sent. Hooked by
// data-upload-form on the form, data-dropzone and data-upload-input inside it. Without JavaScript the
// form posts as it is.
(function () {
  "use strict";

  function size(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    if (bytes < 1024 * 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
    return (bytes / 1024 / 1024 / 1024).toFixed(1) + " GB";
  }

  function setup(form) {
    if (form.hasAttribute("data-upload-ready")) return;
    form.setAttribute("data-upload-ready", "");
    var zone = form.querySelector("[data-dropzone]");
    var input = form.querySelector("[data-upload-input]");
    var list = form.querySelector("[data-chosen]");
    var progress = form.querySelector("[data-progress]");
    var bar = form.querySelector("[data-progress-bar]");
    var text = form.querySelector("[data-progress-text]");
    var submit = form.querySelector("[data-upload-submit]");

    function show() {
      list.replaceChildren();
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " (" + size(file.size) + ")";
        list.appendChild(item);
      });
    }

    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    zone.addEventListener("dragleave", function () {
      zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      // The files already chosen stay; the dropped ones join them.
      var all = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (file) { all.items.add(file); });
      Array.prototype.forEach.call(event.dataTransfer.files, function (file) { all.items.add(file); });
      input.files = all.files;
      show();
    });

    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest) return;
      event.preventDefault();
      var most = parseInt(form.getAttribute("data-max-files"), 10);
      if (most && input.files.length > most) {
        progress.hidden = false;
        text.textContent = input.files.length + " files chosen; at most " + most + " go at once: put the others in a zip archive.";
        return;
      }
      var total = Array.prototype.reduce.call(input.files, function (sum, file) { return sum + file.size; }, 0);
      var largest = parseInt(form.getAttribute("data-max-total"), 10);
      if (largest && total > largest) {
        progress.hidden = false;
        text.textContent = "These files are " + size(total) + " together; at most " + size(largest) + " go at once: send them in smaller groups.";
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      progress.hidden = false;
      submit.disabled = true;
      text.textContent = "Sending…";
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) return;
        bar.max = e.total;
        bar.value = e.loaded;
        text.textContent = "Sent " + size(e.loaded) + " of " + size(e.total) + " (" + Math.round((100 * e.loaded) / e.total) + "%)";
      });
      xhr.upload.addEventListener("load", function () {
        text.textContent = "Sent. The console is reading the files and starting the job…";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
          return;
        }
        // The form with its errors, or an error page: shown in place of this page's content.
        var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var main = page.querySelector("main");
        if (main && document.querySelector("main")) {
          document.querySelector("main").replaceWith(document.adoptNode(main));
          document.querySelectorAll("[data-upload-form]").forEach(setup);
          return;
        }
        submit.disabled = false;
        text.textContent = "The upload failed (HTTP " + xhr.status + "). Nothing was uploaded; try again.";
      });
      xhr.addEventListener("error", function () {
        submit.disabled = false;
        text.textContent = "The connection broke while sending: nothing was uploaded. Try again.";
      });
      xhr.send(new FormData(form));
    });
  }

  function setupAll() {
    document.querySelectorAll("[data-upload-form]").forEach(setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupAll);
  else setupAll();
})();
