// Calendar: drag a scheduled post to another day to move it (same time of day), and "+N more"
// loads the rest of a day in place (without this script the link opens the day's page).
(function () {
  var cal = document.querySelector(".calendar");
  if (!cal) { return; }
  var status = document.getElementById("cal-status");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  cal.addEventListener("click", function (e) {
    var more = e.target.closest(".cal-more");
    if (!more || !more.dataset.more) { return; }
    e.preventDefault();
    if (more.getAttribute("aria-busy") === "true") { return; }
    more.setAttribute("aria-busy", "true");
    fetch(more.dataset.more, {headers: {"Accept": "text/html"}, credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        // The fragment is this server's own escaped template output (see _calendar_items.html).
        var tpl = document.createElement("template");
        tpl.innerHTML = html;
        more.replaceWith(tpl.content);
      })
      .catch(function () { window.location.href = more.href; });
  });
  cal.addEventListener("dragstart", function (e) {
    var item = e.target.closest(".cal-item");
    if (item) { e.dataTransfer.setData("text/plain", item.dataset.postId); }
  });
  cal.addEventListener("dragover", function (e) { if (e.target.closest(".cal-day")) { e.preventDefault(); } });
  cal.addEventListener("drop", function (e) {
    var day = e.target.closest(".cal-day");
    var postId = e.dataTransfer.getData("text/plain");
    if (!day || !postId) { return; }
    e.preventDefault();
    fetch("/calendar/move", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({post_id: postId, date: day.dataset.date, tz: cal.dataset.tz})
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.ok) { window.location.reload(); } else { status.textContent = data.detail; status.className = "field-error"; }
    });
  });
})();
