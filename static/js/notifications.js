/* Live notifications: keeps the header badge and the notifications page up to date over a websocket.
 *
 * The page works without this script (the badge and the list are rendered on the server); the socket only makes them
 * live. A message carries a kind, an id, a case reference and a link, never text: the wording comes from the page
 * (#notification-texts, rendered in the page's language). The socket sends on connect whatever the page has not seen
 * (ids after data-last-seen, and anything never delivered), so nothing is lost across reconnects; ids already shown
 * are ignored, and rows the page already counted update only the badge. The server marks a row delivered when it has
 * sent it, so the page sends no acknowledgements (a catch-up of many rows would otherwise look like a flood).
 * Close codes 4401/4403 mean the login ended: no reconnect. Anything else reconnects with exponential backoff and
 * jitter. The backoff is reset only once a connection has stayed open for STABLE_MS: while Redis is down the server
 * accepts the socket and closes it at once (4013), and resetting on every open made each page reconnect about once a
 * second. While the socket is down the header says, quietly, that live updates are paused; the page itself still works.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-notifications]");
  if (!root || !("WebSocket" in window) || !window.JSON) {
    return;
  }
  var textsElement = document.getElementById("notification-texts");
  var texts = textsElement ? JSON.parse(textsElement.textContent) : { kinds: {} };
  var countElement = root.querySelector("[data-notifications-count]");
  var live = root.querySelector("[data-notifications-live]");
  var liveList = root.querySelector("[data-notifications-live-list]");
  var closeButton = root.querySelector("[data-notifications-close]");
  var pausedElement = root.querySelector("[data-notifications-paused]");
  var pageList = document.querySelector("[data-notifications-list]");
  var lastSeen = parseInt(root.getAttribute("data-last-seen"), 10) || 0;
  // Rows up to this id were counted in the badge the server rendered; only later ones pop up as new.
  var renderedUpTo = lastSeen;
  var socketPath = root.getAttribute("data-socket-path") || "/ws/notifications/";
  // The child's name is never in a socket message: the page asks the server for it over HTTP (read through the gate
  // there, for those who may read the case basics) and adds it to the new item.
  var childUrl = root.getAttribute("data-child-url");

  var TERMINAL_CODES = [4401, 4403];
  var LIVE_ITEMS = 5;
  var PING_MS = 25000;
  var BASE_BACKOFF_MS = 1000;
  var MAX_BACKOFF_MS = 60000;
  // A connection that stayed open this long is healthy: the next failure starts the backoff afresh.
  var STABLE_MS = 30000;
  // The "paused" note goes away only when a connection has stayed open this long (a socket closed at once by a server
  // whose channel layer is down must not make it flicker).
  var RESUMED_MS = 3000;

  var known = {};
  Array.prototype.forEach.call(document.querySelectorAll("[data-notification-id]"), function (element) {
    known[element.getAttribute("data-notification-id")] = true;
  });

  // On a case page (/cases/<uuid>/…) the socket follows that case, so the page learns when the user's access ends.
  var caseMatch = /^\/cases\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\//.exec(
    window.location.pathname
  );
  var caseId = caseMatch ? caseMatch[1] : null;

  var socket = null;
  var attempts = 0;
  var pingTimer = null;
  var reconnectTimer = null;
  var stableTimer = null;
  var resumedTimer = null;
  var stopped = false;

  function setPaused(paused) {
    if (pausedElement) {
      pausedElement.hidden = !paused;
    }
  }

  function clearHealthTimers() {
    window.clearTimeout(stableTimer);
    window.clearTimeout(resumedTimer);
    stableTimer = null;
    resumedTimer = null;
  }

  function setCount(unread) {
    if (!countElement || typeof unread !== "number") {
      return;
    }
    // The server counts up to 100 unread rows (notifications.selectors.UNREAD_CAP) and the badge says "99+" then.
    countElement.textContent = unread > 99 ? "99+" : String(unread);
    countElement.hidden = unread <= 0;
  }

  function wording(message) {
    var kind = texts.kinds[message.kind];
    if (!kind) {
      return message.kind;
    }
    if (!message.case_reference) {
      return kind.label;
    }
    return kind.text.replace("%(reference)s", message.case_reference);
  }

  function itemLink(message) {
    var link = document.createElement("a");
    link.href = message.url;
    link.textContent = wording(message);
    return link;
  }

  function showLive(message) {
    if (!live || !liveList) {
      return;
    }
    var item = document.createElement("li");
    item.appendChild(itemLink(message));
    liveList.insertBefore(item, liveList.firstChild);
    while (liveList.children.length > LIVE_ITEMS) {
      liveList.removeChild(liveList.lastChild);
    }
    live.hidden = false;
    return item;
  }

  function addChild(message, items) {
    if (!childUrl || !message.case_reference || !window.fetch) {
      return;
    }
    window
      .fetch(childUrl.replace("/0/", "/" + String(message.id) + "/"), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (!answer || !answer.child) {
          return;
        }
        items.forEach(function (item) {
          if (!item) {
            return;
          }
          var label = document.createElement("span");
          label.className = "child-label";
          label.setAttribute("data-child-label", "");
          label.textContent = " (" + answer.child + ")";
          (item.querySelector(".notifications-item__text") || item).appendChild(label);
        });
      })
      .catch(function () {
        // The item stays as it is: the reference alone.
      });
  }

  function prependToPage(message) {
    if (!pageList) {
      return;
    }
    var item = document.createElement("li");
    item.className = "notifications-item notifications-item--unread";
    item.setAttribute("data-notification-id", String(message.id));
    var text = document.createElement("p");
    text.className = "notifications-item__text";
    var state = document.createElement("span");
    state.className = "notifications-item__state";
    state.textContent = texts["new"] || "";
    text.appendChild(state);
    text.appendChild(document.createTextNode(" "));
    text.appendChild(itemLink(message));
    item.appendChild(text);
    pageList.insertBefore(item, pageList.firstChild);
    var empty = document.querySelector("[data-notifications-empty]");
    if (empty) {
      empty.hidden = true;
    }
    return item;
  }

  function showRevoked() {
    var main = document.getElementById("main");
    if (!main || document.querySelector("[data-notifications-revoked]")) {
      return;
    }
    var notice = document.createElement("p");
    notice.className = "notifications-revoked";
    notice.setAttribute("role", "alert");
    notice.setAttribute("data-notifications-revoked", "");
    notice.textContent = texts.revoked || "";
    main.insertBefore(notice, main.firstChild);
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    }
  }

  function handle(message) {
    if (!message || typeof message !== "object") {
      return;
    }
    if (message.type === "notification" && typeof message.id === "number") {
      setCount(message.unread);
      if (message.id > lastSeen) {
        lastSeen = message.id;
      }
      if (known[String(message.id)]) {
        return;
      }
      known[String(message.id)] = true;
      if (message.id > renderedUpTo) {
        var items = [showLive(message), prependToPage(message)];
        addChild(message, items);
      }
    } else if (message.type === "unread") {
      setCount(message.unread);
    } else if (message.type === "case_revoked" && message.case_id === caseId) {
      showRevoked();
    }
  }

  function scheduleReconnect() {
    if (stopped) {
      return;
    }
    // "Equal jitter": half the exponential delay is fixed, half random, so pages that lost the same server spread out
    // and none comes back sooner than half its delay.
    var delay = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * Math.pow(2, attempts));
    attempts = Math.min(attempts + 1, 16);
    reconnectTimer = window.setTimeout(connect, delay / 2 + Math.random() * (delay / 2));
  }

  function connect() {
    reconnectTimer = null;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + socketPath + "?last_seen=" + lastSeen);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket.onopen = function () {
      clearHealthTimers();
      stableTimer = window.setTimeout(function () {
        attempts = 0;
      }, STABLE_MS);
      resumedTimer = window.setTimeout(function () {
        setPaused(false);
      }, RESUMED_MS);
      if (caseId) {
        send({ type: "subscribe", case_id: caseId });
      }
      pingTimer = window.setInterval(function () {
        send({ type: "ping" });
      }, PING_MS);
    };
    socket.onmessage = function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handle(message);
    };
    socket.onclose = function (event) {
      window.clearInterval(pingTimer);
      clearHealthTimers();
      pingTimer = null;
      socket = null;
      if (TERMINAL_CODES.indexOf(event.code) !== -1) {
        stopped = true;
        setPaused(false);
        return;
      }
      setPaused(true);
      scheduleReconnect();
    };
  }

  if (closeButton && live) {
    closeButton.addEventListener("click", function () {
      live.hidden = true;
    });
  }
  // A page restored from the back/forward cache keeps its old socket state: reconnect with what it knows.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !socket && !reconnectTimer && !stopped) {
      connect();
    }
  });
  connect();
})();
