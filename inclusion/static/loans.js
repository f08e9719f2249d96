// Lend form: suggest residents as the coordinator types (the form works without this).
(function () {
  "use strict";
  var input = document.getElementById("resident");
  var list = document.getElementById("resident-options");
  if (!input || !list || !window.fetch) { return; }
  input.setAttribute("list", "resident-options");
  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2) { return; }
    timer = setTimeout(function () {
      fetch("/loans/residents.json?q=" + encodeURIComponent(q), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (rows) {
          list.textContent = "";
          rows.forEach(function (row) {
            var option = document.createElement("option");
            option.value = row.label;
            list.appendChild(option);
          });
        })
        .catch(function () {});
    }, 200);
  });
})();
