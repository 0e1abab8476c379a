// The "Print / save as PDF" button: shown only when scripts run (otherwise a hint says Ctrl+P).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
