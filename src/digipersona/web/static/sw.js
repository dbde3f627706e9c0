/* digipersona service worker: the shell and the approval inbox work offline.
   Static assets: cache first. Pages and the review API: network first, cached copy offline.
   Decisions made offline are queued by the page (IndexedDB) and replayed when back online. */
const CACHE = "digipersona-v2";
const SHELL = ["/static/app.css", "/static/htmx.min.js", "/static/offline.js", "/static/swipe.js", "/static/manifest.webmanifest", "/static/icon-192.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function cacheable(url) {
  return url.pathname.startsWith("/approvals") || url.pathname.startsWith("/content/") ||
    url.pathname === "/dashboard" || url.pathname.startsWith("/api/v1/content");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
      return response;
    })));
    return;
  }
  if (cacheable(url)) {
    event.respondWith(fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    }).catch(() => caches.match(request).then((hit) => hit || new Response(
      "<!doctype html><title>Offline</title><p>You are offline and this page was not saved yet.</p>",
      {status: 503, headers: {"Content-Type": "text/html"}}
    ))));
  }
});

self.addEventListener("push", (event) => {
  let data = {title: "digipersona", body: ""};
  try { data = event.data.json(); } catch (e) { data.body = event.data ? event.data.text() : ""; }
  event.waitUntil(self.registration.showNotification(data.title, {body: data.body, data: data.url || "/approvals", icon: "/static/icon-192.png"}));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data || "/approvals"));
});
