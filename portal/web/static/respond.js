// Progressive enhancement for the survey form. Everything works without it:
// the server ignores answers to questions whose condition is not met.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var form = document.getElementById("answers");
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
  if (!form) {
    return;
  }

  function answered(items, values) {
    return items.some(function (name) {
      var inputs = form.querySelectorAll('input[name="' + name + '"]');
      return Array.prototype.some.call(inputs, function (input) {
        return input.checked && values.indexOf(input.value) !== -1;
      });
    });
  }

  // Conditions refer to earlier questions only, so one pass in page order
  // settles chains such as police → police_by.
  function update() {
    var blocks = form.querySelectorAll("[data-show-if]");
    Array.prototype.forEach.call(blocks, function (block) {
      var parent = document.getElementById("q-" + block.getAttribute("data-show-if"));
      var items = block.getAttribute("data-show-items").split(" ");
      var values = block.getAttribute("data-show-values").split(" ");
      var visible = parent && !parent.hidden && answered(items, values);
      block.hidden = !visible;
    });
  }

  // "None of these" options exclude the others, and the others exclude them.
  function exclusive(event) {
    var input = event.target;
    if (input.type !== "checkbox" || !input.checked) {
      return;
    }
    var siblings = form.querySelectorAll('input[name="' + input.name + '"]');
    Array.prototype.forEach.call(siblings, function (other) {
      if (other !== input && (input.hasAttribute("data-exclusive") || other.hasAttribute("data-exclusive"))) {
        other.checked = false;
      }
    });
  }

  form.addEventListener("change", function (event) {
    exclusive(event);
    update();
  });
  update();
})();
