/*
 * Toasts for the logged-in citizen's own news, and the nav's unread count (web/templates/base.html).
 *
 * live.js follows user:{me} (the #toasts element names it); this script listens to its
 * `civic:event`s on that topic and shows a toast for a new notification, a badge earned or a
 * request for one's data, unless the person switched that kind off (/notifications/preferences).
 * The unread count and the switched-off kinds come from /notifications/live.json, fetched at load
 * and again after each new notification, so the count is the server's, never a guess.
 * Toasts are announced politely through #live-announcer; each stays 10 s (longer while hovered or
 * focused) and has a dismiss button. Without JavaScript, /notifications has it all.
 */
(function () {
  "use strict";

  var TOAST_MS = 10000;
  var MAX_TOASTS = 4;
  var REFETCH_MS = 300;

  var region = document.getElementById("toasts");
  if (!region) return;
  var badge = document.querySelector("[data-unread-badge]");
  var noToast = {};
  var refetchTimer = null;

  // Events carry the badge's English title; the page lists its translations.
  function badgeTitle(title) {
    try {
      var titles = JSON.parse(region.getAttribute("data-badge-titles") || "{}");
      return titles[title] || title;
    } catch (err) {
      return title;
    }
  }

  function label(name, fallback) {
    return region.getAttribute("data-label-" + name) || fallback;
  }

  function setUnread(count) {
    if (!badge) return;
    var number = badge.querySelector("[data-unread-count]");
    if (number) number.textContent = String(count);
    badge.hidden = !(count > 0);
  }

  function refresh() {
    refetchTimer = null;
    if (!window.fetch) return;
    window
      .fetch("/notifications/live.json", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (!state) return;
        noToast = {};
        (state.no_toast || []).forEach(function (kind) {
          noToast[kind] = true;
        });
        setUnread(state.unread);
      })
      .catch(function () {
        /* offline: the count stays as it was */
      });
  }

  function refreshSoon() {
    if (!refetchTimer) refetchTimer = window.setTimeout(refresh, REFETCH_MS);
  }

  function dismiss(toast) {
    window.clearTimeout(toast._timer);
    if (toast.parentNode) toast.parentNode.removeChild(toast);
  }

  function arm(toast) {
    window.clearTimeout(toast._timer);
    toast._timer = window.setTimeout(function () {
      // Not while the reader is on it.
      if (toast.matches(":hover") || toast.contains(document.activeElement)) arm(toast);
      else dismiss(toast);
    }, TOAST_MS);
  }

  function show(kind, heading, text, url) {
    if (noToast[kind]) return;
    var toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("data-kind", kind);
    var body = document.createElement("p");
    body.className = "toast-text";
    var small = document.createElement("span");
    small.className = "toast-kind";
    small.textContent = heading;
    body.appendChild(small);
    var words;
    if (url && url.charAt(0) === "/" && url.charAt(1) !== "/") {
      words = document.createElement("a");
      words.href = url;
    } else {
      words = document.createElement("span");
    }
    words.textContent = text;
    body.appendChild(words);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", label("close", "Dismiss") + ": " + text);
    close.textContent = "\u00d7";
    close.addEventListener("click", function () {
      dismiss(toast);
    });
    toast.appendChild(body);
    toast.appendChild(close);
    region.appendChild(toast);
    while (region.children.length > MAX_TOASTS) dismiss(region.firstElementChild);
    arm(toast);
    if (window.civicLive && window.civicLive.announce) window.civicLive.announce(heading + ": " + text);
  }

  document.addEventListener("civic:event", function (e) {
    var detail = e.detail || {};
    if (!detail.topic || detail.topic.indexOf("user:") !== 0) return;
    var event = detail.event || {};
    var data = event.data || {};
    switch (event.type) {
      case "notification.created":
        refreshSoon();
        show(data.kind || "notification", label("notification", "New notification"), data.title || "", data.url);
        break;
      case "badge.earned":
        show("badge.earned", label("badge", "Badge earned"), badgeTitle(data.title || data.badge || "") + " (" + data.level + ")", "/me/profile");
        break;
      case "disclosure.requested":
        show("disclosure.requested", label("request", "Request for your data"), data.purpose || "", "/me/consents");
        break;
      default:
        break;
    }
  });

  refresh();
})();
