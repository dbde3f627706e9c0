// Small behaviours every page may use, declared with data- attributes: the Content-Security-Policy
// allows no inline script and no on*= handlers, so markup says what and this file does it.
(function () {
  // <form data-confirm="Really?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  document.addEventListener("click", function (event) {
    // <button data-back>: the browser's back button.
    if (event.target.closest("[data-back]")) { window.history.back(); return; }
    // <button data-use-text="field-id"> inside a card with a .text: copy that text into the field.
    var use = event.target.closest("[data-use-text]");
    if (use) {
      var field = document.getElementById(use.getAttribute("data-use-text"));
      var text = use.parentElement.querySelector(".text");
      if (field && text) {
        field.value = text.textContent;
        field.dispatchEvent(new Event("input"));
      }
    }
  });
})();
