// A poll that fails stops and says so, instead of polling forever or swapping an error page in.
// Hooked by data-poll-failed="message" on an element that polls with hx-trigger="every ...".
(function () {
  "use strict";

  function stop(poller) {
    var note = document.createElement("div");
    note.className = "notice poll-failed";
    note.setAttribute("role", "status");
    note.appendChild(document.createTextNode(poller.getAttribute("data-poll-failed") + " "));
    var again = document.createElement("a");
    again.href = window.location.href;
    again.textContent = "Reload";
    note.appendChild(again);
    // Only the polling stops: what the element showed stays, under the message. htmx stops polling an
    // element that has left the page, so it is replaced by a copy without the polling attributes.
    var copy = poller.cloneNode(true);
    copy.removeAttribute("hx-get");
    copy.removeAttribute("hx-trigger");
    copy.removeAttribute("data-poll-failed");
    poller.replaceWith(copy);
    copy.parentNode.insertBefore(note, copy);
  }

  function poller(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.hasAttribute && elt.hasAttribute("data-poll-failed") ? elt : null;
  }

  document.addEventListener("htmx:sendError", function (event) {
    var elt = poller(event);
    if (elt) stop(elt);
  });
  document.addEventListener("htmx:timeout", function (event) {
    var elt = poller(event);
    if (elt) stop(elt);
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = poller(event);
    if (elt && event.detail.xhr && event.detail.xhr.status >= 400) {
      event.detail.shouldSwap = false;
      stop(elt);
    }
  });
})();
