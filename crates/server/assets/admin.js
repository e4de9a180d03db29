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

// Articles editor (admin/articles/editor.rs): the live preview beside the text, from
// the server's own renderer; autosave of drafts a few seconds after typing stops; the
// media library as a picker for the cover image. Without this the editor's Preview
// button and plain cover-image field do the same jobs.
(function () {
  "use strict";

  var form = document.querySelector("form[data-editor]");
  if (!form || !window.Broadsheet) return;
  var send = window.Broadsheet.fetch;
  var source = form.querySelector("[name=source]");
  var format = form.querySelector("[name=format]");
  var pane = document.querySelector("[data-preview]");
  var readTime = form.querySelector("[data-read-time]");
  var status = form.querySelector("[data-autosave-status]");
  var json = { "Content-Type": "application/json" };

  function debounce(fn, ms) {
    var timer;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // Only the newest answer is shown, however the requests overtake each other.
  var latest = 0;
  function preview() {
    var mine = ++latest;
    send(form.getAttribute("data-preview-url"), {
      method: "POST",
      headers: json,
      body: JSON.stringify({ source: source.value, format: format.value })
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text().then(function (html) {
        if (mine !== latest) return;
        // The server's sanitised rendering, the same HTML the article page shows.
        pane.innerHTML = html;
        if (readTime) {
          readTime.textContent = "Read time: " + response.headers.get("X-Read-Time") +
            " (" + response.headers.get("X-Word-Count") + " words)";
        }
      });
    }).catch(function () { /* the last preview stays */ });
  }

  var autosaveUrl = form.getAttribute("data-autosave-url");
  var saving = false;
  var pending = false;

  function fields() {
    var data = {};
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrf" && key !== "intent") data[key] = value;
    });
    return data;
  }

  function autosave() {
    if (!autosaveUrl) return;
    if (saving) {
      pending = true;
      return;
    }
    var data = fields();
    // A new article is not created before it has a title.
    if (!data.title || !data.title.trim()) return;
    saving = true;
    send(autosaveUrl, { method: "POST", headers: json, body: JSON.stringify(data) })
      .then(function (response) {
        if (response.status === 422) throw new Error("check the fields, then Save");
        if (!response.ok) throw new Error("error " + response.status);
        return response.json();
      })
      .then(function (saved) {
        status.textContent = "Saved " + saved.saved_at;
        if (autosaveUrl === "/admin/articles/autosave") {
          // The first autosave created the article: from now on this form edits it.
          autosaveUrl = saved.edit_url + "/autosave";
          form.setAttribute("action", saved.edit_url);
          history.replaceState(null, "", saved.edit_url);
        }
      })
      .catch(function (problem) {
        status.textContent = "Not saved: " + problem.message;
      })
      .then(function () {
        saving = false;
        if (pending) {
          pending = false;
          autosave();
        }
      });
  }

  var previewSoon = debounce(preview, 300);
  var autosaveTimer;
  function autosaveSoon() {
    clearTimeout(autosaveTimer);
    autosaveTimer = setTimeout(autosave, 3000);
  }
  // A real save supersedes any autosave still waiting.
  form.addEventListener("submit", function () {
    clearTimeout(autosaveTimer);
    autosaveUrl = null;
  });
  function edited(event) {
    if (event.target === source || event.target === format) previewSoon();
    autosaveSoon();
  }
  form.addEventListener("input", edited);
  form.addEventListener("change", edited);
  if (source.value && !pane.querySelector(":not(.empty)")) preview();

  var picker = form.querySelector("[data-media-picker]");
  var cover = form.querySelector("[name=cover_image]");
  if (picker && cover) {
    send("/admin/media.json").then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (library) {
      var items = Array.isArray(library) ? library : (library && (library.items || library.media)) || [];
      if (!items.length) return;
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "secondary";
      toggle.textContent = "Choose from the media library";
      toggle.setAttribute("aria-expanded", "false");
      var grid = document.createElement("div");
      grid.className = "media-picker";
      grid.hidden = true;
      items.forEach(function (item) {
        var choice = document.createElement("button");
        choice.type = "button";
        choice.className = "media-choice";
        var img = document.createElement("img");
        // The library's small variant when it offers one: a grid of full images
        // would download megabytes to show thumbnails.
        if (item.thumbnail) {
          img.src = item.thumbnail;
        } else {
          img.src = item.url;
          if (item.srcset) img.srcset = item.srcset;
          img.sizes = "8rem";
        }
        img.alt = item.alt || "";
        choice.setAttribute("aria-label", "Use " + (item.alt || item.url));
        choice.appendChild(img);
        choice.addEventListener("click", function () {
          cover.value = item.url;
          grid.hidden = true;
          toggle.setAttribute("aria-expanded", "false");
          autosaveSoon();
        });
        grid.appendChild(choice);
      });
      toggle.addEventListener("click", function () {
        grid.hidden = !grid.hidden;
        toggle.setAttribute("aria-expanded", String(!grid.hidden));
      });
      picker.appendChild(toggle);
      picker.appendChild(grid);
    }).catch(function () { /* no library: the address field is enough */ });
  }

  var link = document.querySelector(".copy-link");
  if (link) {
    link.addEventListener("focus", function () { link.select(); });
  }
})();
