/* Inactivity warning: shows a notice before the session ends and offers to stay logged in.
 *
 * The server says how many seconds are left (data-remaining, rendered with the page) and how early to warn
 * (data-warn-before). Before warning, the script asks the server again (GET data-status-url, which does not extend
 * the session), because another tab may have been used meanwhile. "Stay logged in" POSTs to the same URL, which
 * extends the session. When the time is up the page goes to the login page, which brings the person back here.
 * No inline script: everything comes from data attributes (the Content-Security-Policy forbids inline code).
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-session-warning]");
  if (!box || !window.fetch) {
    return;
  }
  var statusUrl = box.getAttribute("data-status-url");
  var loginUrl = box.getAttribute("data-login-url");
  var warnBefore = parseInt(box.getAttribute("data-warn-before"), 10) || 120;
  var countdown = box.querySelector("[data-session-countdown]");
  var stay = box.querySelector("[data-session-stay]");
  var endsAt = Date.now() + (parseInt(box.getAttribute("data-remaining"), 10) || 0) * 1000;
  var timer = null;

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function format(seconds) {
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function goToLogin() {
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  }

  function update(remainingSeconds) {
    endsAt = Date.now() + remainingSeconds * 1000;
    schedule();
  }

  function ask(method) {
    var options = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method === "POST") {
      options.headers["X-CSRFToken"] = csrfToken();
    }
    return fetch(statusUrl, options).then(function (response) {
      return response.ok ? response.json() : { remaining: 0 };
    });
  }

  function tick() {
    var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    if (left <= 0) {
      // Ask once more: another tab may have kept the session alive.
      ask("GET").then(function (data) {
        if (data.remaining > 0) {
          box.hidden = true;
          update(data.remaining);
        } else {
          goToLogin();
        }
      }, goToLogin);
      return;
    }
    countdown.textContent = format(left);
    timer = window.setTimeout(tick, 1000);
  }

  function schedule() {
    window.clearTimeout(timer);
    var untilWarning = endsAt - Date.now() - warnBefore * 1000;
    if (untilWarning > 0) {
      box.hidden = true;
      timer = window.setTimeout(check, untilWarning);
    } else {
      box.hidden = false;
      tick();
    }
  }

  function check() {
    ask("GET").then(function (data) {
      if (data.remaining > warnBefore) {
        update(data.remaining);
      } else {
        box.hidden = false;
        endsAt = Date.now() + data.remaining * 1000;
        tick();
      }
    }, function () {
      box.hidden = false;
      tick();
    });
  }

  stay.addEventListener("click", function () {
    ask("POST").then(function (data) {
      if (data.remaining > 0) {
        update(data.remaining);
      } else {
        goToLogin();
      }
    });
  });

  schedule();
})();
