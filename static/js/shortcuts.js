// Keyboard shortcuts of an input's page: j or → the next input, k or ← the previous one, Esc back to the
// grid at this input; of the tasks list: n a new task; ? shows or hides the list.
// Hooks: [data-shortcut="next|previous|back|new"] (links,
// followed as a click, so htmx swaps them as it does any boosted link), [data-shortcuts-toggle] and
// #shortcuts (the list). Keys typed into a field are left alone.
(function () {
  "use strict";

  const KEYS = { j: "next", ArrowRight: "next", k: "previous", ArrowLeft: "previous", Escape: "back", n: "new" };

  function toggleHelp() {
    const help = document.getElementById("shortcuts");
    if (!help) return;
    help.hidden = !help.hidden;
    const button = document.querySelector("[data-shortcuts-toggle]");
    if (button) button.setAttribute("aria-expanded", String(!help.hidden));
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-toggle]")) toggleHelp();
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "?") {
      if (!document.querySelector("[data-shortcuts-toggle]")) return;
      event.preventDefault();
      toggleHelp();
      return;
    }
    const which = KEYS[event.key];
    if (!which) return;
    const link = document.querySelector(`a[data-shortcut="${which}"]`);
    if (!link) return;
    event.preventDefault();
    if (which === "back") {
      // A whole page load, so that the browser scrolls to the tile the link's #anchor names.
      window.location.assign(link.href);
    } else {
      link.click();
    }
  });
})();
