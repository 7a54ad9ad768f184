// Where keyboard focus goes after HTMX replaces the page's content (a boosted link, a Save): to what the new
// content asks for (`autofocus`, such as a confirmation's button), to what went wrong if it shows an
// error, else to its heading, so that focus is never lost on a removed
// element and a screen reader announces the new page. Which swaps count: <body data-focus-after-swap="#content">.
(function () {
  "use strict";

  function focusable(element) {
    if (!element.hasAttribute("tabindex") && !element.matches("a, button, input, select, textarea")) {
      element.setAttribute("tabindex", "-1");
    }
    return element;
  }

  function focusIn(container) {
    const wanted = container.querySelector("[autofocus]");
    const invalid = container.querySelector('[aria-invalid="true"]');
    const alert = container.querySelector('[role="alert"]:not(:empty)');
    const heading = container.querySelector("h1");
    const target = wanted || invalid || alert || heading;
    if (!target) return;
    focusable(target).focus({ preventScroll: true });
    // The heading sits at the top of what htmx scrolls to; an error may be further down. htmx applies the
    // swap's `show:` after this event, so the error is scrolled to once it has.
    if (target !== heading) setTimeout(() => target.scrollIntoView({ block: "center" }), 0);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    const selector = document.body.dataset.focusAfterSwap;
    if (!selector) return;
    const target = event.detail.target;
    // An outerHTML swap leaves the old target detached: look for its replacement by the same selector.
    if (target && target.matches && target.matches(selector)) {
      const container = document.querySelector(selector);
      if (container) focusIn(container);
    } else if (target && target.isConnected) {
      // An error swapped into a part of the page (a Save's error slot, the notices) is brought into view.
      const alert = target.querySelector('[role="alert"]');
      if (alert) alert.scrollIntoView({ block: "nearest" });
    }
  });
})();
