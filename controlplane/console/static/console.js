// licensekit console: small enhancements only. Every page works without
// this script; the server checks everything it offers.
(function () {
  "use strict";

  // Copy buttons: shown only when the script runs, they copy the text of
  // the field named by data-copy.
  document.querySelectorAll("button.js-copy[data-copy]").forEach(function (btn) {
    var field = document.getElementById(btn.getAttribute("data-copy"));
    if (!field) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var done = function () {
        var label = btn.textContent;
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
      }
    });
  });

  // Delete: the button stays disabled until the licence id is typed. The
  // server compares the typed id again.
  document.querySelectorAll("button[data-enable-when]").forEach(function (btn) {
    var input = document.getElementById(btn.getAttribute("data-enable-when"));
    if (!input) { return; }
    var want = input.getAttribute("data-must-equal");
    var sync = function () { btn.disabled = input.value.trim() !== want; };
    input.addEventListener("input", sync);
    sync();
  });

  // Selecting a token field selects all of it, for a manual copy.
  document.querySelectorAll("textarea.token, #new-secret").forEach(function (el) {
    el.addEventListener("focus", function () { el.select(); });
  });
})();
