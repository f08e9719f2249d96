// The header's scan box takes the keyboard on a coordinator's page where nothing else does,
// so a USB scanner (which types the tag, serial or IMEI and presses Enter) works without
// a click. A page keeps its own focus: an autofocus field, an error summary, a form being
// filled in, a link to a place on the page, or wherever the person has already moved to.
(function () {
  "use strict";
  var box = document.getElementById("scan-q");
  if (!box) return;

  function nothingFocused() {
    var active = document.activeElement;
    return !active || active === document.body || active === document.documentElement;
  }

  function pageHasItsOwnFocus() {
    if (document.querySelector("[autofocus], .govuk-error-summary")) return true;
    if (location.hash.length > 1) return true;
    if (!nothingFocused()) return true;
    // A page that is a form to fill in (not a search or filter) starts at its own first field.
    var forms = document.querySelectorAll("main form");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      if ((form.getAttribute("method") || "get").toLowerCase() !== "post") continue;
      if (form.querySelector("input:not([type=hidden]):not([type=submit]):not([type=button]), textarea, select")) return true;
    }
    return false;
  }

  // On a touch-only screen a focused field would open the on-screen keyboard uninvited.
  var touchOnly = window.matchMedia && window.matchMedia("(any-pointer: fine)").matches === false;
  if (!touchOnly && !pageHasItsOwnFocus()) box.focus();

  // A scan typed while nothing has focus (after a click on the page's background) still
  // lands in the box.
  document.addEventListener("keydown", function (event) {
    if (!nothingFocused() || event.defaultPrevented) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key.length !== 1 || event.key === " ") return;
    if (pageHasItsOwnFocus()) return;
    box.focus();
  });
})();
