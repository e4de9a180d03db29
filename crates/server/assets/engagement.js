/* Broadsheet: the article page's engagement widgets, enhanced.
 *
 * The page works without this script: every widget is a plain form that posts and is
 * redirected back. With it:
 *   - the numbers are fetched fresh on load (the page itself may be a CDN copy), and so
 *     is what this reader chose (pressed buttons, checked star);
 *   - one view is counted per page load (the <noscript> pixel does it without script);
 *   - the forms post with fetch and the page is updated in place, no reload; a refusal
 *     is shown in the widget's live region (with the wait, when rate limited);
 *   - live updates arrive over Server-Sent Events (event "engagement").
 *
 * No dependencies, no build step, no third-party requests. The server is the only
 * source of numbers: nothing here guesses a count. */
(function () {
  "use strict";

  var root = document.querySelector("[data-engagement-root]");
  if (!root || !window.fetch || !window.URLSearchParams || !window.FormData) return;
  document.documentElement.dataset.enhanced = "1";

  var api = {
    engagement: root.dataset.apiEngagement,
    me: root.dataset.apiMe,
    live: root.dataset.apiLive,
    view: root.dataset.apiView,
  };

  /* ---- Reading the server ---- */

  function getJSON(url) {
    if (!url) return Promise.resolve(undefined);
    return fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (res) {
        return res.ok ? res.json() : undefined;
      })
      .catch(function () {
        return undefined;
      });
  }

  /* Answers to our own posts are newer than any read that started before them: a read
   * is applied only if no post answered since it began. */
  var generation = 0;
  function fresh(read) {
    var started = generation;
    return read.then(function (value) {
      return started === generation ? value : undefined;
    });
  }

  function countView() {
    if (!api.view) return Promise.resolve();
    try {
      return fetch(api.view, {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      }).catch(function () {});
    } catch (e) {
      if (navigator.sendBeacon) navigator.sendBeacon(api.view);
      return Promise.resolve();
    }
  }

  /* ---- Writing the page ---- */

  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  /* Sets every `[data-<attr>=name]` in `scope` to `n`, and the words that go with it
   * (`[data-unit-for=name]`, singular in data-one, plural in data-other). */
  function setNumber(scope, attr, name, n) {
    if (typeof n !== "number") return;
    scope.querySelectorAll("[data-" + attr + '="' + name + '"]').forEach(function (el) {
      setText(el, String(n));
    });
    scope.querySelectorAll('[data-unit-for="' + name + '"]').forEach(function (el) {
      setText(el, n === 1 ? el.dataset.one : el.dataset.other);
    });
  }

  function setBar(scope, percent) {
    var bar = scope.querySelector("[data-bar]");
    if (bar) bar.style.width = percent + "%";
  }

  function byAttr(attr, value) {
    var found = null;
    root.querySelectorAll("[" + attr + "]").forEach(function (el) {
      if (el.getAttribute(attr) === String(value)) found = el;
    });
    return found;
  }

  function applyEngagement(view) {
    if (!view || typeof view !== "object") return;
    ["views", "likes", "dislikes", "comments"].forEach(function (name) {
      setNumber(document, "count", name, view[name]);
    });
    (view.reactions || []).forEach(function (r) {
      var button = byAttr("data-reaction", r.key);
      if (!button) return;
      setNumber(button, "field", "percent", r.percent);
      setNumber(button, "field", "count", r.count);
      setBar(button, r.percent);
    });
    var rating = view.rating;
    if (rating) {
      var some = root.querySelector("[data-rating-some]");
      var none = root.querySelector("[data-rating-none]");
      var rated = rating.count > 0 && typeof rating.average === "number";
      if (some) some.hidden = !rated;
      if (none) none.hidden = rated;
      if (rated) {
        root.querySelectorAll('[data-field="average"]').forEach(function (el) {
          setText(el, rating.average.toFixed(1));
        });
        var fill = root.querySelector("[data-stars-fill]");
        if (fill) fill.style.width = rating.average * 20 + "%";
      }
      setNumber(root, "field", "rating-count", rating.count);
      (rating.stars || []).forEach(function (s) {
        var row = byAttr("data-star", s.stars);
        if (!row) return;
        setNumber(row, "field", "percent", s.percent);
        setNumber(row, "field", "count", s.count);
        setBar(row, s.percent);
      });
    }
  }

  /* What this reader chose; `null` means nothing (an unknown reader). */
  var ratingTouched = false;

  function applyChoices(choices) {
    var c = choices || {};
    root.querySelectorAll("[data-vote]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(c.vote === b.dataset.vote));
    });
    root.querySelectorAll("[data-reaction]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(c.reaction === b.dataset.reaction));
    });
    if (!ratingTouched) {
      root.querySelectorAll('[data-engage="rate"] input[type="radio"]').forEach(function (r) {
        r.checked = c.rating != null && r.value === String(c.rating);
      });
    }
    var clear = root.querySelector('[data-engage="clear_rating"]');
    if (clear) clear.hidden = c.rating == null;
  }

  root.addEventListener("change", function (event) {
    if (event.target.matches('[data-engage="rate"] input[type="radio"]')) ratingTouched = true;
  });

  function refresh() {
    return Promise.all([fresh(getJSON(api.engagement)), fresh(getJSON(api.me))]).then(function (both) {
      applyEngagement(both[0]);
      if (both[1] !== undefined) applyChoices(both[1]);
    });
  }

  /* ---- Status messages ---- */

  function statusFor(form) {
    var widget = form.closest("[data-engagement-widget]");
    return (widget && widget.querySelector("[data-status]")) || null;
  }

  var clearTimer = null;
  function say(form, text, kind) {
    var el = statusFor(form);
    if (!el) return;
    root.querySelectorAll("[data-status]").forEach(function (other) {
      if (other !== el) setText(other, "");
    });
    el.dataset.kind = kind || "info";
    /* Rewrite even an identical message, so it is announced again. */
    el.textContent = "";
    window.setTimeout(function () {
      el.textContent = text;
    }, 30);
    window.clearTimeout(clearTimer);
    if (kind !== "error") {
      clearTimer = window.setTimeout(function () {
        el.textContent = "";
      }, 6000);
    }
  }

  /* How long a rate-limited reader should wait, from Retry-After (seconds or a date). */
  function waitText(res) {
    var header = res.headers.get("Retry-After");
    if (!header) return "";
    var seconds = Number(header);
    if (!isFinite(seconds)) {
      var at = Date.parse(header);
      if (isNaN(at)) return "";
      seconds = (at - Date.now()) / 1000;
    }
    seconds = Math.max(1, Math.ceil(seconds));
    var wait;
    if (seconds < 90) wait = seconds + (seconds === 1 ? " second" : " seconds");
    else if (seconds < 90 * 60) wait = Math.round(seconds / 60) + " minutes";
    else wait = "about " + Math.round(seconds / 3600) + (Math.round(seconds / 3600) === 1 ? " hour" : " hours");
    return " (Wait: " + wait + ".)";
  }

  function labelOf(key) {
    var button = byAttr("data-reaction", key);
    var label = button && button.querySelector(".reaction-label");
    return label ? label.textContent.trim() : key;
  }

  function doneMessage(action, choices) {
    var c = choices || {};
    switch (action) {
      case "vote":
        return c.vote === "like" ? "You like this article." : c.vote === "dislike" ? "You dislike this article." : "Your vote was removed.";
      case "react":
        return c.reaction ? "Your reaction: " + labelOf(c.reaction) + "." : "Your reaction was removed.";
      case "rate":
        return c.rating ? "You rated this " + c.rating + (c.rating === 1 ? " star." : " stars.") : "Your rating was saved.";
      case "clear_rating":
        return "Your rating was removed.";
      default:
        return "Saved.";
    }
  }

  /* ---- Sending the forms ---- */

  /* Browsers without SubmitEvent.submitter: remember the last submit button used. */
  var lastButton = null;
  root.addEventListener("click", function (event) {
    lastButton = event.target.closest ? event.target.closest('button[type="submit"]') : null;
  });

  function formBody(form, submitter) {
    var data;
    try {
      data = submitter ? new FormData(form, submitter) : new FormData(form);
    } catch (e) {
      data = new FormData(form);
    }
    var body = new URLSearchParams(data);
    if (submitter && submitter.name && !body.has(submitter.name)) {
      body.append(submitter.name, submitter.value);
    }
    return body;
  }

  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-engage]")) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    var submitter = event.submitter || (lastButton && form.contains(lastButton) ? lastButton : null);
    var body = formBody(form, submitter);
    var action = body.get("action");
    form.setAttribute("aria-busy", "true");
    /* Not `form.action`: the form's <input name="action"> shadows that property. */
    fetch(new URL(form.getAttribute("action"), document.baseURI).href, {
      method: "POST",
      headers: { Accept: "application/json" },
      body: body,
      credentials: "same-origin",
    })
      .then(function (res) {
        var type = res.headers.get("Content-Type") || "";
        var parsed = type.indexOf("json") !== -1 ? res.json().catch(function () { return null; }) : Promise.resolve(null);
        return parsed.then(function (data) {
          if (res.ok && data && data.engagement) {
            generation += 1;
            ratingTouched = false;
            applyEngagement(data.engagement);
            applyChoices(data.choices);
            say(form, doneMessage(action, data.choices));
            if (action === "clear_rating") {
              var first = root.querySelector('[data-engage="rate"] input[type="radio"]');
              if (first) first.focus();
            }
          } else if (res.ok) {
            /* Not the answer we asked for (a proxy followed the redirect?): reload the
             * numbers rather than guess. */
            return refresh();
          } else {
            var message = data && data.error && data.error.message ? data.error.message : "That did not work (error " + res.status + ").";
            if (res.status === 429) message += waitText(res);
            say(form, message, "error");
          }
        });
      })
      .catch(function () {
        say(form, "Could not reach the site. Nothing was changed; please try again.", "error");
      })
      .then(function () {
        form.removeAttribute("aria-busy");
      });
  });

  /* ---- Live updates ---- */

  var live = null;
  function openLive() {
    if (!api.live || !window.EventSource || live) return;
    live = new EventSource(api.live);
    live.addEventListener("engagement", function (event) {
      try {
        applyEngagement(JSON.parse(event.data));
      } catch (e) {
        /* A malformed event changes nothing. */
      }
    });
  }
  function closeLive() {
    if (live) live.close();
    live = null;
  }
  /* An open stream keeps the page out of the back/forward cache: close it when the page
   * is put away, reopen and refresh when it comes back. */
  window.addEventListener("pagehide", closeLive);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      refresh();
      openLive();
    }
  });

  /* ---- Start ---- */

  fresh(getJSON(api.me)).then(function (choices) {
    if (choices !== undefined) applyChoices(choices);
  });
  /* Count the view first, so the count shown includes this reader's. */
  var started = generation;
  countView()
    .then(function () {
      return getJSON(api.engagement);
    })
    .then(function (view) {
      if (started === generation) applyEngagement(view);
    });
  openLive();
})();
