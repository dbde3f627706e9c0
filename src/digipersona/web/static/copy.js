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
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(
      function () { say("Copied."); },
      function () { say("Selected: press Ctrl+C (or Cmd+C) to copy."); }
    );
  } else {
    say("Selected: press Ctrl+C (or Cmd+C) to copy.");
  }
});
