/* Broadsheet: the notification bell (browser push).
 *
 * The bell is hidden in the page and shown here only when the browser can take
 * pushes (service workers, the Push API, notifications). A click registers the site's
 * service worker (/sw.js, whole-site scope), asks for permission, subscribes with the
 * site's VAPID key (GET /push/key) and hands the subscription to the server
 * (POST /push/subscriptions, with the bell's tag, if any). Clicking again stops it
 * (DELETE /push/subscriptions); the browser's subscription is dropped once it follows
 * nothing on this site. No dependencies, no third-party requests. */
(function () {
  "use strict";

  var bells = document.querySelectorAll("[data-push-bell]");
  if (
    !bells.length ||
    !window.fetch ||
    !("serviceWorker" in navigator) ||
    !("PushManager" in window) ||
    !("Notification" in window)
  ) {
    return;
  }

  function send(method, path, body) {
    return fetch(path, {
      method: method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    }).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok) {
          throw new Error((json && json.error && json.error.message) || "HTTP " + res.status);
        }
        return json;
      });
    });
  }

  function keyBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function follows(topics, tag) {
    return (topics || []).some(function (topic) {
      return tag ? topic.kind === "tag" && topic.tag === tag : topic.kind === "site";
    });
  }

  function currentSubscription() {
    return navigator.serviceWorker.getRegistration("/").then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    });
  }

  function setUp(bell) {
    var button = bell.querySelector("button");
    var label = bell.querySelector(".push-bell-label");
    var status = bell.querySelector(".push-bell-status");
    var tag = bell.dataset.tag || null;
    var on = false;

    function show(following, message) {
      on = following;
      button.setAttribute("aria-pressed", following ? "true" : "false");
      label.textContent = following ? label.dataset.on : label.dataset.off;
      status.textContent = message || "";
    }

    function subscribe() {
      var registration;
      return navigator.serviceWorker
        .register("/sw.js", { scope: "/" })
        .then(function (reg) {
          registration = reg;
          return Notification.requestPermission();
        })
        .then(function (permission) {
          if (permission !== "granted") {
            throw new Error("Notifications are blocked for this site in your browser's settings.");
          }
          return navigator.serviceWorker.ready;
        })
        .then(function () {
          return registration.pushManager.getSubscription();
        })
        .then(function (existing) {
          if (existing) return existing;
          return fetch("/push/key", { credentials: "same-origin" })
            .then(function (res) {
              return res.json();
            })
            .then(function (key) {
              return registration.pushManager.subscribe({
                userVisibleOnly: true,
                applicationServerKey: keyBytes(key.public_key),
              });
            });
        })
        .then(function (subscription) {
          var body = subscription.toJSON();
          body.tag = tag;
          return send("POST", "/push/subscriptions", body);
        })
        .then(function () {
          show(true, "Done: you will be notified of new articles.");
        });
    }

    function unsubscribe() {
      return currentSubscription().then(function (subscription) {
        if (!subscription) return show(false, "");
        return send("DELETE", "/push/subscriptions", {
          endpoint: subscription.endpoint,
          tag: tag,
        })
          .catch(function () {
            return { subscribed: false };
          })
          .then(function (left) {
            return left.subscribed ? null : subscription.unsubscribe();
          })
          .then(function () {
            show(false, "Notifications stopped.");
          });
      });
    }

    button.addEventListener("click", function () {
      button.disabled = true;
      (on ? unsubscribe() : subscribe())
        .catch(function (err) {
          show(on, "Could not change notifications: " + err.message);
        })
        .then(function () {
          button.disabled = false;
        });
    });

    bell.hidden = false;
    currentSubscription()
      .then(function (subscription) {
        if (!subscription) return;
        return send("POST", "/push/status", { endpoint: subscription.endpoint }).then(
          function (state) {
            show(follows(state.topics, tag));
          }
        );
      })
      .catch(function () {});
  }

  Array.prototype.forEach.call(bells, setUp);
})();
