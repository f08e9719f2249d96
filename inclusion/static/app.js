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
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
})();
