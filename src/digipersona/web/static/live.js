/* Live updates: status changes arrive over server-sent events and update the page in place.
   Every event carries the post's status now (post_status, post_status_label); publication events
   also carry the publication's own state (status, status_label) and its platform. */
(function () {
  if (!window.EventSource || !document.querySelector("meta[name=csrf-token]")) { return; }
  if (!document.querySelector(".topbar")) { return; }  /* only for logged-in pages */
  var region = document.getElementById("live-region");
  var source = new EventSource("/events");
  /* Whether updates are flowing (a page, or a test, can wait for it). */
  source.addEventListener("open", function () { document.documentElement.dataset.live = "open"; });
  source.addEventListener("error", function () { document.documentElement.dataset.live = "retrying"; });

  function setState(el, status, label) {
    if (!status) { return; }  /* an event that knows nothing new: leave the label alone */
    el.textContent = label;
    el.className = el.className.replace(/\s*state-[a-z_]+/g, "") + " state-" + status;
  }

  source.addEventListener("change", function (event) {
    var data = JSON.parse(event.data);
    var isPublication = data.type.indexOf("publication.") === 0;
    document.querySelectorAll('[data-live-post="' + data.post_id + '"]').forEach(function (el) {
      setState(el, data.post_status, data.post_status_label);
    });
    if (isPublication) {
      var selector = '[data-live-target="' + data.post_id + ":" + data.platform + '"]';
      document.querySelectorAll(selector).forEach(function (el) {
        setState(el, data.status, data.status_label);
      });
    }
    /* Most notifications follow a status change: refresh the unread count in the topbar. */
    if (window.htmx && document.getElementById("unread-badge")) {
      window.htmx.ajax("GET", "/notifications/unread-count", {target: "#unread-badge", swap: "innerHTML"});
    }
    if (region && (data.post_status || data.status)) {
      region.textContent = isPublication
        ? data.platform + " post " + data.status_label + (data.error ? ": " + data.error : "")
        : "Post " + data.post_status_label;
    }
  });
})();
