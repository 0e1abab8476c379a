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

  // Padding (threat model T3): every POST of the form is made a whole number of
  // PAD_BLOCK bytes, so its size on the wire says nothing about the answers.
  // The server checks the "pad" field and discards it (portal/web/padding.py,
  // which has the same PAD_BLOCK).
  var PAD_BLOCK = 16384;
  var PLAIN = /[A-Za-z0-9*\-._]/;

  // Bytes of a string in application/x-www-form-urlencoded, as the browser
  // sends it: line breaks as CRLF, UTF-8, space as "+", other bytes as %XX.
  function encodedLength(text) {
    var normalised = String(text).replace(/\r\n|\r|\n/g, "\r\n");
    var length = 0;
    for (var i = 0; i < normalised.length; i++) {
      var code = normalised.charCodeAt(i);
      if (code < 0x80) {
        length += (code === 0x20 || PLAIN.test(normalised[i])) ? 1 : 3;
      } else if (code < 0x800) {
        length += 6;
      } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < normalised.length &&
                 normalised.charCodeAt(i + 1) >= 0xdc00 && normalised.charCodeAt(i + 1) <= 0xdfff) {
        length += 12;  // a surrogate pair: one code point of four bytes
        i++;
      } else {
        length += 9;  // three bytes (a lone surrogate is sent as U+FFFD)
      }
    }
    return length;
  }

  function bodyLength(submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
    }
    var length = 0;
    var fields = 0;
    data.forEach(function (value, name) {
      length += encodedLength(name) + 1 + encodedLength(value);
      fields += 1;
    });
    return length + Math.max(fields - 1, 0);
  }

  form.addEventListener("submit", function (event) {
    var previous = form.querySelector('input[name="pad"]');
    if (previous) {
      previous.parentNode.removeChild(previous);
    }
    // Without knowing the button that sent the form, its size cannot be known exactly.
    if (!("submitter" in event)) {
      return;
    }
    var unpadded = bodyLength(event.submitter) + "&pad=".length;
    var target = Math.ceil(unpadded / PAD_BLOCK) * PAD_BLOCK;
    var pad = document.createElement("input");
    pad.type = "hidden";
    pad.name = "pad";
    pad.value = new Array(target - unpadded + 1).join("x");
    form.appendChild(pad);
  });

  // Paging in the browser. Every section is in the form; the server showed one.
  // With this script Next and Back change the section here, without a request, so
  // the number of requests is the same whether or not the follow-up pages were
  // shown. The server still gets the form when a page has an unanswered required
  // question (for its error summary), for the summary page, and to send.
  var pageField = form.querySelector('input[name="page"]');
  var stepText = document.getElementById("step");
  var sections = Array.prototype.slice.call(form.querySelectorAll("section[data-page]"));
  if (!pageField || !stepText || !sections.length) {
    return;
  }

  function shownSections() {
    // A section is a page when one of its questions is visible.
    return sections.filter(function (section) {
      return Array.prototype.some.call(section.querySelectorAll(".question:not(.matrix-row)"), function (q) {
        return !q.hidden && !q.parentElement.closest("[hidden]:not(section)");
      });
    });
  }

  function currentSection() {
    return sections.filter(function (section) {
      return section.getAttribute("data-page") === pageField.value;
    })[0];
  }

  function unanswered(section) {
    // A visible required question with an item (a matrix row or the question) left open.
    return Array.prototype.some.call(section.querySelectorAll("[data-required]"), function (q) {
      if (q.hidden) {
        return false;
      }
      var groups = q.classList.contains("matrix") ? q.querySelectorAll(".matrix-row") : [q];
      return Array.prototype.some.call(groups, function (group) {
        var inputs = group.querySelectorAll("input[type=radio], input[type=checkbox]");
        if (!inputs.length) {
          var field = group.querySelector("textarea, input[type=text]");
          return field && !field.value.trim();
        }
        return !Array.prototype.some.call(inputs, function (input) {
          return input.checked;
        });
      });
    });
  }

  function refreshStep() {
    // The summary is a page too: "Step 2 of 5" counts it. An answer that adds or
    // removes the follow-up pages changes the count at once.
    var pages = shownSections();
    var current = currentSection();
    if (pages.indexOf(current) < 0) {
      return;
    }
    stepText.textContent = stepText
      .getAttribute("data-format")
      .replace("999001", String(pages.indexOf(current) + 1))
      .replace("999002", String(pages.length + 1));
  }
  form.addEventListener("change", refreshStep);

  function show(target, push) {
    var pages = shownSections();
    sections.forEach(function (section) {
      section.hidden = section !== target;
    });
    pageField.value = target.getAttribute("data-page");
    var first = pages[0] === target;
    Array.prototype.forEach.call(document.querySelectorAll(".first-page-only"), function (e) {
      e.hidden = !first;
    });
    var backButton = form.querySelector('.submit-row button[value="back"]');
    if (backButton) {
      backButton.hidden = first;
    }
    refreshStep();
    if (push && window.history.pushState) {
      // The page's state only: the address stays the same, and nothing of the answers is in it.
      window.history.pushState({ page: pageField.value }, "");
    }
    window.scrollTo(0, 0);
    target.querySelector("h2").focus();
  }

  // The first page has no Back button from the server: give it one, hidden there.
  var nextButton = form.querySelector('.submit-row button[value="next"]');
  if (nextButton && !form.querySelector('.submit-row button[value="back"]')) {
    var back = document.createElement("button");
    back.type = "submit";
    back.name = "action";
    back.value = "back";
    back.className = "button secondary";
    back.setAttribute("formnovalidate", "");
    back.textContent = nextButton.getAttribute("data-back-label");
    back.hidden = true;
    nextButton.parentNode.insertBefore(back, nextButton);
  }

  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) {
      return;
    }
    var action = event.submitter ? event.submitter.value : "next";
    var current = currentSection();
    if (!current || (action !== "next" && action !== "back")) {
      return;
    }
    var pages = shownSections();
    var index = pages.indexOf(current);
    if (action === "back" && index > 0) {
      event.preventDefault();
      show(pages[index - 1], true);
    } else if (action === "next" && index >= 0 && index < pages.length - 1 && !unanswered(current)) {
      event.preventDefault();
      show(pages[index + 1], true);
    }
    // Otherwise the server answers: the error summary, or the summary page.
  });

  if (window.history.replaceState) {
    window.history.replaceState({ page: pageField.value }, "");
  }
  window.addEventListener("popstate", function (event) {
    var wanted = event.state && event.state.page;
    var target = sections.filter(function (section) {
      return section.getAttribute("data-page") === wanted;
    })[0];
    if (target && shownSections().indexOf(target) >= 0) {
      show(target, false);
    }
  });
})();
