// "Copy" buttons: copy the named field's value; fall back to selecting it for the user.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-copy"));
  var status = document.getElementById("copy-status");
  if (!field) return;
  field.focus();
  field.select();
  var say = function (text) { if (status) status.textContent = text; };
  /* The older path works where the Clipboard API is refused (e.g. the page lost focus). */
  var legacy = function () {
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    say(done ? "Copied." : "Selected: press Ctrl+C (or Cmd+C) to copy.");
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(function () { say("Copied."); }, legacy);
  } else {
    legacy();
  }
});
