/* Swipe gestures on the approval cards (phones): swipe right = approve, swipe left = reject,
   which asks for a reason first. The buttons stay; a swipe only submits the same forms, so an
   offline decision is queued by offline.js exactly as a button press is. */
(function () {
  var THRESHOLD = 80;            // px of horizontal travel that counts as a decision
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function say(card, text) {
    var n = card.querySelector(".swipe-note");
    if (!n) { n = document.createElement("p"); n.className = "swipe-note"; n.setAttribute("role", "status"); card.prepend(n); }
    n.textContent = text;
  }

  function decide(card, action) {
    var form = card.querySelector('form[data-offline-decision][data-action="' + action + '"]');
    if (!form) { return; }
    var button = form.querySelector('button[value="' + action + '"]');
    if (action === "reject") {
      var reason = form.querySelector("[name=reason]");
      if (reason && !reason.value.trim()) {
        card.classList.add("asking-reason");
        say(card, "Why reject it? Type a reason, then press Reject or swipe left again.");
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
        return;
      }
    }
    say(card, action === "approve" ? "Approving…" : "Rejecting…");
    form.requestSubmit(button);
  }

  function attach(card) {
    var x0 = null, y0 = 0, dx = 0, horizontal = false;
    card.addEventListener("touchstart", function (e) {
      if (e.touches.length !== 1 || e.target.closest("input, textarea, select")) { x0 = null; return; }
      x0 = e.touches[0].clientX; y0 = e.touches[0].clientY; dx = 0; horizontal = false;
    }, {passive: true});
    card.addEventListener("touchmove", function (e) {
      if (x0 === null) { return; }
      dx = e.touches[0].clientX - x0;
      var dy = e.touches[0].clientY - y0;
      if (!horizontal && Math.abs(dx) > 12 && Math.abs(dx) > 2 * Math.abs(dy)) { horizontal = true; }
      if (horizontal) {
        card.dataset.swipe = dx > 0 ? "approve" : "reject";
        if (!still) { card.style.transform = "translateX(" + Math.max(-120, Math.min(120, dx)) + "px)"; }
      }
    }, {passive: true});
    function end() {
      if (x0 === null) { return; }
      card.style.transform = "";
      delete card.dataset.swipe;
      if (horizontal && Math.abs(dx) >= THRESHOLD) { decide(card, dx > 0 ? "approve" : "reject"); }
      x0 = null;
    }
    card.addEventListener("touchend", end);
    card.addEventListener("touchcancel", function () { x0 = null; card.style.transform = ""; delete card.dataset.swipe; });
  }

  function init() {
    document.querySelectorAll("article.approval").forEach(function (card) {
      if (card.querySelector("form[data-offline-decision]")) { attach(card); card.classList.add("swipeable"); }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
