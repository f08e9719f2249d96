// GOV.UK Frontend's body-class snippet, kept in a file because the CSP allows no inline script.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
