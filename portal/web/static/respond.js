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

  // Link mode: after a submission this browser keeps a marker that holds no
  // identifier (only that this survey was answered here), and nothing is sent
  // to the server. Coming back to the form (Back, or the link again) then says
  // so, instead of letting one more tap store a second response; someone else
  // on a shared device can still answer.
  var MARKER = "varna-answered:";
  function storage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }
  var thanks = document.getElementById("thanks");
  if (thanks && thanks.getAttribute("data-answered") && storage()) {
    storage().setItem(MARKER + thanks.getAttribute("data-answered"), "1");
  }
  var notice = document.getElementById("answered-notice");
  function answeredHere() {
    var store = storage();
    return !!(notice && store && store.getItem(MARKER + notice.getAttribute("data-survey")));
  }
  function showAnswered() {
    if (!answeredHere() || !form) {
      return;
    }
    notice.hidden = false;
    form.hidden = true;
    notice.setAttribute("tabindex", "-1");
    notice.focus();
  }
  if (notice) {
    document.getElementById("answer-again").addEventListener("click", function () {
      storage().removeItem(MARKER + notice.getAttribute("data-survey"));
      notice.hidden = true;
      form.hidden = false;
      var first = form.querySelector("input:not([type=hidden]), textarea, button");
      if (first) {
        first.focus();
      }
    });
    // "pageshow" also runs when Back brings the page from the browser's cache.
    window.addEventListener("pageshow", showAnswered);
    showAnswered();
  }
  if (!form) {
    return;
  }
  form.addEventListener("submit", function (event) {
    if (answeredHere()) {
      event.preventDefault();
      showAnswered();
    }
  });

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
