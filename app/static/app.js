// Parity's small amount of JavaScript. No inline scripts anywhere: the CSP allows only files from 'self'.
(function () {
  "use strict";

  const TOAST_MS = 6000;

  function showToast(message, level) {
    const region = document.getElementById("toasts");
    if (!region) return;
    const toast = document.createElement("div");
    toast.className = "toast toast--" + (level || "success");
    toast.textContent = message;
    region.appendChild(toast);
    setTimeout(function () { toast.remove(); }, TOAST_MS);
  }

  // Server-side flashes arrive in the page; fade them after a while.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (toast) {
      setTimeout(function () { toast.remove(); }, TOAST_MS);
    });
  });

  // Views answer htmx requests with HX-Trigger: {"toast": {"message": ..., "level": ...}}.
  // The event bubbles from the element that made the request up to the document.
  document.addEventListener("toast", function (event) {
    showToast(event.detail.message, event.detail.level);
  });

  // A failed htmx request (network down, 500) must not fail silently.
  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    showToast(status >= 500 ? "Something went wrong; nothing was saved. Try again." : "That did not work (" + status + ").", "error");
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("Parity could not be reached. Check your connection and try again.", "error");
  });
})();
