// "Enable on this device" in Settings: subscribe this browser to Web Push notifications.
(function () {
  var button = document.getElementById("push-enable");
  if (!button) { return; }
  button.addEventListener("click", async function () {
    var status = document.getElementById("push-status");
    try {
      if (!("serviceWorker" in navigator) || !("PushManager" in window)) { throw new Error("This browser has no Web Push."); }
      var reg = await navigator.serviceWorker.ready;
      var key = (await (await fetch("/api/v1/push/key")).json()).public_key;
      var raw = Uint8Array.from(atob(key.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - key.length % 4) % 4)), c => c.charCodeAt(0));
      var sub = await reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: raw});
      var json = sub.toJSON();
      var r = await fetch("/api/v1/push/subscriptions", {method: "POST", headers: {"Content-Type": "application/json",
        "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content},
        body: JSON.stringify({endpoint: json.endpoint, keys: json.keys, device: navigator.userAgent.slice(0, 200)})});
      status.textContent = r.ok ? "Notifications are on for this device." : "The server refused the subscription.";
    } catch (e) { status.textContent = "Could not enable notifications: " + e.message; }
  });
})();
