// Practice session form: a changed level ticks "practised", and what was typed is kept
// in this browser until the session is saved, so a lost connection loses nothing.
// A draft is kept for 24 hours at most, never holds the safeguarding description (it
// goes to the server or nowhere), and every draft is cleared at sign-out (drafts.js).
(function () {
  "use strict";
  var form = document.querySelector("form.session-form");
  if (!form) return;
  form.addEventListener("change", function (event) {
    var row = event.target.closest(".task-row");
    if (row && event.target.tagName === "SELECT") {
      var tick = row.querySelector("input.practised");
      if (tick) tick.checked = true;
    }
  });
  var PREFIX = "practice-draft:";
  var MAX_AGE = 24 * 60 * 60 * 1000;
  // Never written to the phone: what a buddy saw that worries them.
  var NEVER_KEPT = ["safeguarding_description"];
  var key = PREFIX + location.pathname;
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.type !== "submit" &&
        NEVER_KEPT.indexOf(el.name) === -1;
    });
  }
  function save() {
    var data = {};
    fields().forEach(function (el) {
      if (el.type === "checkbox") data[el.name] = el.checked;
      else if (el.type === "radio") { if (el.checked) data[el.name] = el.value; }
      else data[el.name] = el.value;
    });
    var draft = { saved_at: Date.now(), fields: data };
    try { store.setItem(key, JSON.stringify(draft)); } catch (e) { /* storage full */ }
  }
  // Restore a draft only onto a fresh form (a server re-render already has the values),
  // and only a recent one in today's format (older drafts may hold safeguarding text).
  var fresh = !document.querySelector(".govuk-error-summary");
  var saved = null;
  try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
  if (saved && !(saved.saved_at && saved.fields && Date.now() - saved.saved_at < MAX_AGE)) {
    store.removeItem(key);
    store.removeItem(key + ":sent");
    saved = null;
  }
  saved = saved && saved.fields;
  if (fresh && saved) {
    fields().forEach(function (el) {
      if (!(el.name in saved)) return;
      if (el.type === "checkbox") el.checked = !!saved[el.name];
      else if (el.type === "radio") el.checked = saved[el.name] === el.value;
      else el.value = saved[el.name];
    });
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  // Saved once the server answers with the resident's page: forget the draft there.
  form.addEventListener("submit", function () { save(); store.setItem(key + ":sent", "1"); });
})();
(function () {
  "use strict";
  // On the resident's page after a successful save, the draft is no longer needed.
  if (!document.querySelector(".flash-success")) return;
  try {
    var store = window.localStorage;
    for (var i = store.length - 1; i >= 0; i--) {
      var k = store.key(i);
      if (k && k.indexOf("practice-draft:") === 0 && store.getItem(k + ":sent")) {
        store.removeItem(k);
        store.removeItem(k + ":sent");
      } else if (k && /:sent$/.test(k)) { /* removed with its draft */ }
    }
  } catch (e) { /* no storage */ }
})();
