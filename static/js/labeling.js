// The labeler's workspace and the review queue (templates/labeling/work.html, review.html).
//
// Workspace ([data-labeling="work"]): every input of the batch is already in the page (one <form> each,
// pictures loaded ahead); 1-9 toggle the concepts, Enter submits (in the background) and shows the next
// input at once, s skips (past the last input, the skipped ones come round again), p or Backspace goes
// back. When few are left, the next batch is fetched (data-more-url) and appended. A submit that fails
// brings its input back with the reason.
//
// Review ([data-labeling="review"]): j/k move between answers, a approves, r and b put the cursor in
// the reason field (Enter then rejects or sends back), 1-9 correct the concepts. htmx posts the form and
// swaps in the decided card; the next answer then gets the focus. ? is shortcuts.js's.
(function () {
  "use strict";

  function csrf() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function typing(target) {
    return target.closest && target.closest("input[type=text], input:not([type]), textarea, select, [contenteditable]");
  }

  function toggle(scope, key) {
    const box = scope.querySelector(`input[type=checkbox][data-key="${key}"]`);
    if (box && !box.disabled) box.checked = !box.checked;
  }

  // The workspace

  function workspace(root) {
    const holder = root.querySelector("#work-items");
    const problem = root.querySelector("#work-problem");
    const done = root.querySelector(".work-done");
    let current = 0;
    let fetching = false;

    const forms = () => Array.from(holder.querySelectorAll("form.work-item"));
    const pending = () => forms().filter((f) => !f.dataset.state);

    function show(index) {
      const all = forms();
      if (index >= all.length) {
        more();
        const skipped = all.findIndex((f) => !f.dataset.state);
        if (skipped >= 0) {
          show(skipped); // past the last one: back to what was skipped
          return;
        }
        all.forEach((f) => (f.hidden = true));
        current = all.length;
        done.hidden = false;
        return;
      }
      current = Math.max(0, index);
      done.hidden = true;
      all.forEach((f, i) => (f.hidden = i !== current));
      all[current].focus({ preventScroll: true });
    }

    // The next input not yet submitted, after `from`, or the first skipped one.
    function nextIndex(from) {
      const all = forms();
      for (let i = from + 1; i < all.length; i++) if (!all[i].dataset.state) return i;
      return all.length;
    }

    function more() {
      if (fetching) return;
      fetching = true;
      fetch(root.dataset.moreUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.text() : ""))
        .then((html) => {
          const known = new Set(forms().map((f) => f.dataset.inputId));
          const box = document.createElement("div");
          box.innerHTML = html;
          let added = 0;
          box.querySelectorAll("form.work-item").forEach((f) => {
            if (known.has(f.dataset.inputId)) return;
            f.hidden = true;
            holder.appendChild(f);
            added++;
          });
          if (added && current >= forms().length - added) show(nextIndex(current - 1));
        })
        .finally(() => (fetching = false));
    }

    function submit(form) {
      if (form.dataset.state === "sent" || form.dataset.state === "done") return;
      const body = new FormData(form);
      form.dataset.state = "sent";
      form.querySelectorAll("input[type=checkbox], button[type=submit]").forEach((el) => (el.disabled = true));
      const badge = form.querySelector("[data-submitted]");
      show(nextIndex(forms().indexOf(form)));
      if (pending().length < 4) more();
      fetch(form.action, {
        method: "POST",
        body: body,
        headers: { "HX-Request": "true", "X-CSRFToken": csrf() },
        credentials: "same-origin",
      })
        .then((r) => (r.ok ? "" : r.text()))
        .catch(() => "<div class=\"upstream-error\">The console did not answer; your answer may not have been saved.</div>")
        .then((failure) => {
          if (!failure) {
            form.dataset.state = "done";
            if (badge) badge.hidden = false;
            return;
          }
          delete form.dataset.state;
          form.querySelectorAll("input[type=checkbox], button[type=submit]").forEach((el) => (el.disabled = false));
          problem.innerHTML = failure;
          show(forms().indexOf(form));
        });
    }

    holder.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(event.target);
    });
    root.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest("[data-work]");
      if (!button) return;
      if (button.dataset.work === "skip") show(nextIndex(current));
      else show(current - 1);
    });
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || typing(event.target)) return;
      const form = forms()[current];
      if (/^[1-9]$/.test(event.key)) {
        if (form) toggle(form, event.key);
      } else if (event.key === "Enter") {
        if (event.target.closest && event.target.closest("button, a")) return;
        if (form) submit(form);
      } else if (event.key === "s") {
        show(nextIndex(current));
      } else if (event.key === "p" || event.key === "Backspace") {
        show(current - 1);
      } else {
        return;
      }
      event.preventDefault();
    });
    if (forms().length) show(0);
  }

  // The review queue

  function reviewQueue(root) {
    const cards = () => Array.from(root.querySelectorAll("form.review-answer"));

    function move(step) {
      const all = cards();
      if (!all.length) return;
      const at = all.indexOf(document.activeElement && document.activeElement.closest("form.review-answer"));
      const next = all[Math.min(all.length - 1, Math.max(0, at + step))] || all[0];
      next.focus();
      next.scrollIntoView({ block: "nearest" });
    }

    root.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest("[data-verdict]");
      if (!button) return;
      button.form.querySelector("input[type=hidden][name=verdict]").value = button.dataset.verdict;
    });
    document.body.addEventListener("htmx:afterSwap", () => {
      const next = cards()[0];
      if (next) next.focus();
    });
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      const card = event.target.closest && event.target.closest("form.review-answer");
      if (typing(event.target)) {
        if (event.key === "Enter" && card && event.target.matches("[data-reason]")) {
          event.preventDefault();
          const verdict = card.dataset.pending || "reject";
          card.querySelector(`[data-verdict="${verdict}"]`).click();
        } else if (event.key === "Escape") {
          if (card) card.focus();
        }
        return;
      }
      if (event.key === "j") move(1);
      else if (event.key === "k") move(-1);
      else if (card && /^[1-9]$/.test(event.key)) toggle(card, event.key);
      else if (card && event.key === "a") card.querySelector('[data-verdict="approve"]').click();
      else if (card && (event.key === "r" || event.key === "b")) {
        card.dataset.pending = event.key === "r" ? "reject" : "send_back";
        card.querySelector("[data-reason]").focus();
      } else return;
      event.preventDefault();
    });
    const first = cards()[0];
    if (first) first.focus();
  }

  function start() {
    const root = document.querySelector("[data-labeling]");
    if (!root) return;
    if (root.dataset.labeling === "work") workspace(root);
    else reviewQueue(root);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
