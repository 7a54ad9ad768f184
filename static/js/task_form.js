// The new task form (templates/labeling/tasks/new.html): the task id follows the name until the person
// types an id of their own ([data-id-from] names the field it follows), and only the settings that apply
// are shown: labelers per input when the inputs are shared out, reviewers when there is review, the
// threshold for consensus. Without this script every field shows, with its help text.
(function () {
  "use strict";

  // field name -> [the radio group it depends on, the values that show it]
  const SHOWN_WHEN = {
    workers_per_input: ["split", ["PARTITIONED"]],
    reviewers: ["review", ["MANUAL", "CONSENSUS"]],
    approval_threshold: ["review", ["CONSENSUS"]],
  };

  function slug(text) {
    return text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9_\s-]/g, "")
      .trim()
      .replace(/[\s-]+/g, "-")
      .slice(0, 255);
  }

  function followName(form) {
    const id = form.querySelector("[data-id-from]");
    const name = id && document.getElementById(id.dataset.idFrom);
    if (!name) return;
    let own = id.value !== "" && id.value !== slug(name.value);
    id.addEventListener("input", function () {
      own = id.value !== "";
    });
    name.addEventListener("input", function () {
      if (!own) id.value = slug(name.value);
    });
  }

  function group(form, name) {
    const control = form.querySelector(`[name="${name}"]`);
    return control && control.closest(".field");
  }

  function showWhatApplies(form) {
    for (const [name, [on, values]] of Object.entries(SHOWN_WHEN)) {
      const field = group(form, name);
      const chosen = form.querySelector(`[name="${on}"]:checked`);
      if (!field || !chosen) continue;
      // A field with an error stays in view, whatever is chosen.
      field.hidden = !values.includes(chosen.value) && !field.querySelector(".errorlist");
    }
  }

  function setUp(form) {
    followName(form);
    showWhatApplies(form);
    form.addEventListener("change", function () {
      showWhatApplies(form);
    });
  }

  document.querySelectorAll("form[data-task-form]").forEach(setUp);
})();
