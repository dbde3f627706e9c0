// Calendar: drag a scheduled post to another day to move it (same time of day).
(function () {
  var cal = document.querySelector(".calendar");
  if (!cal) { return; }
  var status = document.getElementById("cal-status");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
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
