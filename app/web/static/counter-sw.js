// The counter's service worker: the page and its assets from the network when it answers, from
// the cache when it does not, so that the counter opens with the server or the network down.
// Scans never pass through here: the page stores them (IndexedDB) and sends them itself.
"use strict";
const CACHE = "darutrace-counter-2";
const PAGE = "/console/counter";
const SHELL = [
  PAGE,
  "/console/counter/manifest.webmanifest",
  "/console/counter/products",
  "/static/counter.js",
  "/static/counter.css",
  "/static/counter-camera.js",
  "/static/vendor/barcode-detector/ponyfill.js",
  "/static/vendor/barcode-detector/zxing_reader.wasm",
  "/static/console.css",
  "/static/console.js",
  "/static/vendor/htmx/htmx.min.js",
  "/static/vendor/vazirmatn/Vazirmatn-Variable.woff2",
  "/static/counter/icon-192.png",
  "/static/counter/icon-512.png",
];

const keep = async (request, response) => {
  // A redirect (to the login page) or an error is not the counter: never cache it as such.
  if (response.ok && !response.redirected && response.type === "basic") {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
};

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      for (const path of SHELL) {
        try {
          await keep(path, await fetch(path, { credentials: "same-origin", headers: path.endsWith("/products") ? { accept: "application/json" } : {} }));
        } catch {
          // Cached on its next successful load instead.
        }
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (!SHELL.includes(path)) return;
  const key = path === PAGE ? PAGE : path; // the page whatever its query string
  event.respondWith(
    (async () => {
      try {
        return await keep(key, await fetch(request));
      } catch (error) {
        const cached = await caches.match(key);
        if (cached) return cached;
        throw error;
      }
    })(),
  );
});
