// htmx leaves the page as it was when a request fails (a server error, the 503 of a
// database outage, a refused permission, no network). Say so, so nobody believes a
// status change or a note went through when it did not.
(function () {
  "use strict";
  var MESSAGES = {
    401: "Your session has ended, so this was not sent. Copy what you typed, then " +
      "reload the page to log in again.",
    403: "You are not allowed to do this. Nothing was changed.",
    503: "The tracker is briefly unavailable, and this may not have been saved. " +
      "Try again in a minute, or reload the page to check.",
  };
  var CSRF = "This page is out of date (you may have logged in again since), so this was " +
    "not sent. Reload the page, then send it again.";
  var OTHER = "Something went wrong and this may not have been saved. Reload the page to check.";
  var OFFLINE = "The tracker could not be reached, so this was not sent. Check your connection.";

  function show(text) {
    var region = document.getElementById("request-error");
    if (!region) return;
    region.querySelector(".request-error__text").textContent = text;
    region.hidden = false;
    region.focus();
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.getResponseHeader("X-Tracker-Error") === "csrf") {
      show(CSRF);
    } else {
      show(MESSAGES[xhr.status] || OTHER);
    }
  });
  document.addEventListener("htmx:sendError", function () {
    show(OFFLINE);
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var region = document.getElementById("request-error");
    if (region) region.hidden = true;
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest(".request-error__close")) {
      document.getElementById("request-error").hidden = true;
    }
  });
})();
