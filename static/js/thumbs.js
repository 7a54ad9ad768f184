// Thumbnails load as they come into view. Chromium's native lazy loading fetches every thumbnail within
// 1,250-2,500 px below the window (three quarters of a 128-tile page); here only those within a short
// margin of it are fetched, the rest as the grid scrolls. Markup: <img data-src="..."> with a <noscript>
// copy carrying src, so that without JavaScript the thumbnails still show.
(function () {
  "use strict";

  const observer =
    "IntersectionObserver" in window ? new IntersectionObserver(reveal, { rootMargin: "0px 0px 160px 0px" }) : null;

  function load(img) {
    img.src = img.dataset.src;
    img.removeAttribute("data-src");
  }

  function reveal(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      load(entry.target);
    }
  }

  function watch(root) {
    // htmx parses what it swaps in with scripting off, so a <noscript>'s copy arrives as a real (hidden,
    // lazy, never fetched) image: drop it.
    root.querySelectorAll(".thumb noscript").forEach((copy) => copy.remove());
    root.querySelectorAll("img[data-src]").forEach((img) => (observer ? observer.observe(img) : load(img)));
  }

  // The page when it loads, and whatever htmx swaps in (a page turn, a processed tile replaced out of
  // band) as soon as it is in the document, before htmx has gone through its attributes.
  document.addEventListener("DOMContentLoaded", () => watch(document));
  document.addEventListener("htmx:afterSwap", () => watch(document));
  document.addEventListener("htmx:oobAfterSwap", () => watch(document));
})();
