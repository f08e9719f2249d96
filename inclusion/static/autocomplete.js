// Choosing a resident or a buddy: GOV.UK's accessible-autocomplete on a typed field
// marked data-autocomplete-url (its JSON: [{label: "..."}]). Progressive enhancement:
// without this file the plain text field is sent and the server finds the person.
(function () {
  "use strict";
  if (!window.accessibleAutocomplete || !window.fetch) { return; }
  document.querySelectorAll("input[data-autocomplete-url]").forEach(function (input) {
    var url = input.getAttribute("data-autocomplete-url");
    var describedBy = input.getAttribute("aria-describedby");
    var invalid = input.getAttribute("aria-invalid");
    var wrapper = document.createElement("div");
    wrapper.className = "app-autocomplete";
    input.parentNode.insertBefore(wrapper, input);
    input.parentNode.removeChild(input);
    var timer = null;
    window.accessibleAutocomplete({
      element: wrapper,
      id: input.id,
      name: input.name,
      defaultValue: input.value,
      minLength: 2,
      showNoOptionsFound: false,
      confirmOnBlur: false,
      inputClasses: "govuk-input" + (invalid ? " govuk-input--error" : ""),
      source: function (query, populate) {
        clearTimeout(timer);
        timer = setTimeout(function () {
          fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query),
                { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : []; })
            .then(function (rows) { populate(rows.map(function (row) { return row.label; })); })
            .catch(function () { populate([]); });
        }, 150);
      }
    });
    var made = document.getElementById(input.id);
    if (made) {
      if (describedBy) {
        var own = made.getAttribute("aria-describedby");
        made.setAttribute("aria-describedby", (describedBy + " " + (own || "")).trim());
      }
      if (invalid) { made.setAttribute("aria-invalid", invalid); }
    }
  });
})();
