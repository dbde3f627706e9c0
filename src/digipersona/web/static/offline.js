/* Offline approvals: decisions are queued in IndexedDB when the network is gone and replayed
   when it is back. The server refuses a decision on a post that changed meanwhile (version
   check); the card then shows the conflict and keeps the queued decision until you act. */
(function () {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(function () {});
  }
  var DB = "digipersona-offline", STORE = "outbox";
  function db() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, {keyPath: "post_id"}); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode), out = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function queue(item) { return tx("readwrite", function (s) { return s.put(item); }); }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function drop(id) { return tx("readwrite", function (s) { return s.delete(id); }); }
  function csrf() { return document.querySelector('meta[name="csrf-token"]').content; }
  function card(id) { return document.querySelector('article[data-post-id="' + id + '"]'); }
  function note(id, text, kind) {
    var c = card(id); if (!c) { return; }
    var n = c.querySelector(".sync-note");
    if (!n) { n = document.createElement("p"); n.className = "sync-note"; n.setAttribute("role", "status"); c.prepend(n); }
    n.textContent = text; n.dataset.kind = kind;
  }

  function send(item) {
    var body = {version: item.version};
    if (item.action === "reject") { body.reason = item.reason; }
    return fetch("/api/v1/content/" + item.post_id + "/" + item.action, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
      body: JSON.stringify(body)
    });
  }

  function replay() {
    if (!navigator.onLine) { return Promise.resolve(); }
    return all().then(function (items) {
      return Promise.all(items.map(function (item) {
        return send(item).then(function (r) {
          if (r.ok) {
            return drop(item.post_id).then(function () { note(item.post_id, "Synced: " + item.action + "d.", "ok"); });
          }
          return r.json().then(function (problem) {
            if (r.status === 409) {
              note(item.post_id, "Not synced: the post changed while you were offline (" + problem.detail +
                ") Your queued decision (" + item.action + ") is kept: reload to review the new version.", "conflict");
              return;
            }
            return drop(item.post_id).then(function () { note(item.post_id, "Not synced: " + problem.detail, "error"); });
          });
        }).catch(function () { note(item.post_id, "Queued offline: will sync when back online.", "queued"); });
      }));
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-offline-decision]") || navigator.onLine) { return; }
    event.preventDefault();
    var action = event.submitter ? event.submitter.value : form.dataset.action;
    var item = {
      post_id: form.dataset.postId, action: action,
      version: parseInt(form.querySelector("[name=version]").value, 10),
      reason: (form.querySelector("[name=reason]") || {}).value || null,
      at: new Date().toISOString()
    };
    queue(item).then(function () { note(item.post_id, "Queued offline: " + action + " will sync when back online.", "queued"); });
  });

  window.addEventListener("online", replay);
  window.digipersonaOffline = {replay: replay, pending: all};
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", replay); } else { replay(); }
})();
