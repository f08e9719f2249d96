// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Public referral form: show "about you" only when referring someone else.
  var referrer = document.getElementById("referrer-fields");
  var radios = document.querySelectorAll("input[name=on_behalf]");
  function sync() {
    var other = document.querySelector("input[name=on_behalf][value=other]");
    if (referrer && other) referrer.hidden = !other.checked;
  }
  radios.forEach(function (r) { r.addEventListener("change", sync); });
  sync();
  // Move keyboard focus to an error summary so screen readers announce it.
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) summary.focus();
  // A table too wide for the screen scrolls inside its .table-wrap: make that box a named,
  // focusable region so keyboard users can scroll it with the arrow keys too.
  document.querySelectorAll(".table-wrap").forEach(function (wrap) {
    if (wrap.scrollWidth <= wrap.clientWidth + 1 || wrap.hasAttribute("tabindex")) return;
    var caption = wrap.querySelector("caption");
    var section = wrap.closest("section");
    var heading = (section && section.querySelector("h2, h3")) || document.querySelector("h1");
    var name = (caption || heading || {}).textContent || "Table";
    wrap.tabIndex = 0;
    wrap.setAttribute("role", "region");
    wrap.setAttribute("aria-label", name.trim() + " (scrolls sideways)");
  });
})();
