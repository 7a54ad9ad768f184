// On a narrow screen a section's tabs scroll sideways in their own strip: the current one is scrolled
// into the strip's view (the page itself is not scrolled), on load and after HTMX brings a new page.
(function () {
  "use strict";

  function showCurrentTabs() {
    document.querySelectorAll(".tabs").forEach(function (strip) {
      const current = strip.querySelector('[aria-current="page"]');
      if (!current || strip.scrollWidth <= strip.clientWidth) return;
      const left = current.offsetLeft - strip.offsetLeft;
      if (left < strip.scrollLeft || left + current.offsetWidth > strip.scrollLeft + strip.clientWidth) {
        strip.scrollLeft = left - (strip.clientWidth - current.offsetWidth) / 2;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", showCurrentTabs);
  document.addEventListener("htmx:afterSettle", showCurrentTabs);
})();
