/* Broadsheet's service worker: shows the site's push notifications and opens the
 * article when one is clicked. Served at /sw.js so that its scope is the whole site.
 * A push carries JSON: {"title", "url", "excerpt"}, encrypted for this browser. */
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (err) {
    message = { title: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(message.title || "New article", {
      body: message.excerpt || "",
      icon: "/favicon.ico",
      data: { url: message.url || "/" },
    })
  );
});

// The browser replaced the subscription (it expired, or the push service rotated it):
// the new one takes over what the old one followed.
self.addEventListener("pushsubscriptionchange", function (event) {
  var old = event.oldSubscription;
  if (!old) return;
  var renewed = event.newSubscription
    ? Promise.resolve(event.newSubscription)
    : self.registration.pushManager.subscribe(old.options);
  event.waitUntil(
    renewed.then(function (subscription) {
      var body = subscription.toJSON();
      body.old_endpoint = old.endpoint;
      return fetch("/push/subscriptions/renew", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    })
  );
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && "focus" in windows[i]) return windows[i].focus();
      }
      return self.clients.openWindow(url);
    })
  );
});
