// Broadsheet admin enhancements. Every page works without this file; it only adds
// conveniences. `Broadsheet.fetch` is `fetch` with the session's CSRF token (from
// <meta name="csrf-token">) in the X-CSRF-Token header, which the server requires on
// every write.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";

  function csrfFetch(url, options) {
    options = options || {};
    var headers = new Headers(options.headers || {});
    var method = (options.method || "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD" && token) {
      headers.set("X-CSRF-Token", token);
    }
    options.headers = headers;
    options.credentials = "same-origin";
    return fetch(url, options);
  }

  // Buttons with data-confirm ask before their form is sent.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) ||
      event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  window.Broadsheet = window.Broadsheet || {};
  window.Broadsheet.fetch = csrfFetch;
  window.Broadsheet.csrfToken = token;
})();
