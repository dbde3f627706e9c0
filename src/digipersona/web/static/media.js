/* The editor's images: drop files on the upload form, or pick/take one, and it uploads at once
   (one request per image, through the same form endpoint the page posts to without script). */
(function () {
  var form = document.getElementById("media-upload");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = document.getElementById("media-status");

  function upload(files) {
    var images = Array.prototype.filter.call(files, function (f) { return /^image\//.test(f.type); });
    if (!images.length) { status.textContent = "Only images can be added here."; return; }
    status.textContent = "Uploading " + images.length + " image(s)…";
    var chain = Promise.resolve();
    images.forEach(function (file) {
      chain = chain.then(function () {
        var data = new FormData();
        data.append("csrf_token", form.elements.csrf_token.value);
        data.append("alt_text", form.elements.alt_text.value);
        data.append("file", file, file.name);
        return fetch(form.action, {method: "POST", body: data, credentials: "same-origin"});
      });
    });
    chain.then(function () { window.location.reload(); },
      function () { status.textContent = "The upload failed: check the connection and try again."; });
  }

  form.addEventListener("dragover", function (event) { event.preventDefault(); form.classList.add("dragging"); });
  form.addEventListener("dragleave", function () { form.classList.remove("dragging"); });
  form.addEventListener("drop", function (event) {
    event.preventDefault();
    form.classList.remove("dragging");
    upload(event.dataTransfer.files);
  });
  form.querySelectorAll("input[type=file]").forEach(function (input) {
    input.addEventListener("change", function () { if (input.files.length) { upload(input.files); } });
  });
})();
