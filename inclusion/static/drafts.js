// Drafts kept in this browser (practice session forms, key prefix "practice-draft:"):
// forgotten at sign-out, and after 24 hours whatever page is open. On every page.
(function () {
  "use strict";
  var PREFIX = "practice-draft:";
  var MAX_AGE = 24 * 60 * 60 * 1000;
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) return;
  function forget(keep) {
    var keys = [];
    for (var i = 0; i < store.length; i++) {
      var k = store.key(i);
      if (k && k.indexOf(PREFIX) === 0) keys.push(k);
    }
    keys.forEach(function (k) {
      if (keep && keep(k)) return;
      store.removeItem(k);
    });
  }
  function recent(k) {
    var base = k.replace(/:sent$/, "");
    try {
      var draft = JSON.parse(store.getItem(base) || "null");
      return !!(draft && draft.saved_at && Date.now() - draft.saved_at < MAX_AGE);
    } catch (e) { return false; }
  }
  forget(recent);
  // Sign-out: the next person to pick up this phone sees nothing that was typed.
  document.querySelectorAll("form[data-clears-drafts]").forEach(function (f) {
    f.addEventListener("submit", function () { forget(null); });
  });
})();
