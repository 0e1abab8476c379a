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
})();
