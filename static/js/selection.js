// Selecting tiles of the inputs grid for a bulk action: click a tile's checkbox or press Space on a
// focused tile; Shift selects the range from the last one picked; "Tick this page" and "Clear". Selected
// tiles get the class `selected` (an outline and a check mark, not only a colour). Hooks: [data-selection]
// (the bulk form), [data-pick] (a tile's checkbox), [data-select-page], [data-clear-selection],
// [data-selected-count], [data-bulk-kind] (shows only the fields of the chosen action, [data-for]).
(function () {
  "use strict";

  let last = null;

  function picks() {
    return Array.from(document.querySelectorAll("input[data-pick]"));
  }

  function refresh() {
    const all = picks();
    let count = 0;
    for (const box of all) {
      const tile = box.closest(".tile");
      if (tile) tile.classList.toggle("selected", box.checked);
      if (box.checked) count += 1;
    }
    const label = document.querySelector("[data-selected-count]");
    if (label) label.textContent = count === 1 ? "1 ticked tile" : `${count} ticked tiles`;
  }

  // Ticking tiles means "these": the scope follows (until "select all that match" is chosen again).
  function scopeToTicked() {
    const radio = document.querySelector("[data-scope-selected]");
    if (radio) radio.checked = true;
  }

  function pick(box, checked, shift) {
    const all = picks();
    if (shift && last && all.includes(last)) {
      const [from, to] = [all.indexOf(last), all.indexOf(box)].sort((a, b) => a - b);
      for (const other of all.slice(from, to + 1)) other.checked = checked;
    } else {
      box.checked = checked;
    }
    last = box;
    scopeToTicked();
    refresh();
  }

  document.addEventListener("click", function (event) {
    const box = event.target.closest && event.target.closest("input[data-pick]");
    if (box) {
      // The click already toggled the box; a Shift-click applies its new state to the whole range.
      pick(box, box.checked, event.shiftKey);
      return;
    }
    if (event.target.closest && event.target.closest("[data-select-page]")) {
      for (const other of picks()) other.checked = true;
      scopeToTicked();
      refresh();
    } else if (event.target.closest && event.target.closest("[data-clear-selection]")) {
      for (const other of picks()) other.checked = false;
      last = null;
      refresh();
    }
  });

  // Space on a focused tile (its link or its checkbox) selects it, as a click on its checkbox would.
  document.addEventListener("keydown", function (event) {
    if (event.key !== " " || event.ctrlKey || event.metaKey || event.altKey) return;
    const tile = event.target.closest && event.target.closest(".tile");
    if (!tile) return;
    const box = tile.querySelector("input[data-pick]");
    if (!box) return;
    event.preventDefault();
    pick(box, !box.checked, event.shiftKey);
  });

  function showFields() {
    const kind = document.querySelector("[data-bulk-kind]");
    if (!kind) return;
    for (const field of document.querySelectorAll("[data-for]")) {
      field.hidden = !field.dataset.for.split(" ").includes(kind.value);
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-bulk-kind]")) showFields();
  });
  document.addEventListener("DOMContentLoaded", function () {
    showFields();
    refresh();
  });
  document.addEventListener("htmx:afterSettle", function () {
    showFields();
    refresh();
  });
})();
