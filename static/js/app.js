// htmx leaves the page as it was when a request fails (a server error, the 503 of a
// database outage, a refused permission, no network). Say so, so nobody believes a
// status change or a note went through when it did not.
(function () {
  "use strict";
  var MESSAGES = {
    403: "You are not allowed to do this. Nothing was changed.",
    503: "The tracker is briefly unavailable, so this was not saved. Try again in a minute.",
  };
  var OTHER = "Something went wrong and this may not have been saved. Reload the page to check.";
  var OFFLINE = "The tracker could not be reached, so this was not saved. Check your connection.";

  function show(text) {
    var region = document.getElementById("request-error");
    if (!region) return;
    region.querySelector(".request-error__text").textContent = text;
    region.hidden = false;
    region.focus();
  }

  document.addEventListener("htmx:responseError", function (event) {
    show(MESSAGES[event.detail.xhr.status] || OTHER);
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
