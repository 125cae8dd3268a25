// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Changing the sort order re-runs the search at once.
  document.querySelectorAll("select.autosubmit").forEach(function (el) {
    el.addEventListener("change", function () { if (el.form) { el.form.submit(); } });
  });
});
// Blurred thumbnails (a per-user setting): a click shows the image, a second click blurs it again.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.thumb.blurred").forEach(function (el) {
    el.addEventListener("click", function () { el.classList.toggle("shown"); });
  });
});
