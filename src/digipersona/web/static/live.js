/* Live updates: status changes arrive over server-sent events and update the page in place. */
(function () {
  if (!window.EventSource || !document.querySelector("meta[name=csrf-token]")) { return; }
  if (!document.querySelector(".topbar")) { return; }  /* only for logged-in pages */
  var region = document.getElementById("live-region");
  var source = new EventSource("/events");
  source.addEventListener("change", function (event) {
    var data = JSON.parse(event.data);
    document.querySelectorAll('[data-live-post="' + data.post_id + '"]').forEach(function (el) {
      if (data.type.indexOf("publication.") === 0 && el.dataset.liveKind === "post") { return; }
      el.textContent = (data.status || "").replace("_", " ");
      el.className = el.className.replace(/state-[a-z_]+/g, "") + " state-" + data.status;
    });
    /* Most notifications follow a status change: refresh the unread count in the topbar. */
    if (window.htmx && document.getElementById("unread-badge")) {
      window.htmx.ajax("GET", "/notifications/unread-count", {target: "#unread-badge", swap: "innerHTML"});
    }
    if (region) {
      var text = data.type.indexOf("publication.") === 0
        ? data.platform + " post " + data.status + (data.error ? ": " + data.error : "")
        : "Post " + (data.status || "").replace("_", " ");
      region.textContent = text;
    }
  });
})();
