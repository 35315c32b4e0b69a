/*
 * The dashboards' live half (web/templates/leadership/dashboard.html, web/templates/dashboard.html).
 *
 * The page is rendered whole by the server and works without JavaScript. Here, when an event
 * arrives on one of the topics the [data-live-dashboard] element names (live.js follows them), or
 * every data-poll-seconds (the public page: its numbers are aggregates no topic carries), the page
 * is fetched again and each [data-live-panel] is replaced by its new version, so every number is
 * the server's. Bursts are coalesced (at most one fetch per 1.5 s). A panel holding the keyboard
 * focus is left alone until focus moves on. Changed counters are announced politely.
 * On `reset` the panels are refetched instead of reloading the page.
 */
(function () {
  "use strict";

  var MIN_GAP_MS = 1500;
  var root = document.querySelector("[data-live-dashboard]");
  if (!root || !window.fetch || !window.DOMParser) return;
  var topics = (root.getAttribute("data-live-topics") || "").split(/\s+/).filter(Boolean);
  var pollSeconds = parseInt(root.getAttribute("data-poll-seconds") || "0", 10);
  var last = 0;
  var timer = null;
  var busy = false;
  var again = false;
  var stopped = false;

  function follows(topic) {
    return topics.indexOf(topic) >= 0;
  }

  function counters(scope) {
    var values = {};
    var nodes = scope.querySelectorAll("[data-counter]");
    for (var i = 0; i < nodes.length; i++) {
      values[nodes[i].getAttribute("data-counter")] = {
        value: nodes[i].textContent.trim(),
        label: nodes[i].getAttribute("data-label") || "",
      };
    }
    return values;
  }

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    var before = counters(document);
    var panels = document.querySelectorAll("[data-live-panel][id]");
    for (var i = 0; i < panels.length; i++) {
      var next = fresh.getElementById(panels[i].id);
      if (!next || panels[i].contains(document.activeElement)) continue;
      panels[i].replaceWith(document.importNode(next, true));
    }
    var after = counters(document);
    var said = [];
    Object.keys(after).forEach(function (key) {
      if (before[key] && before[key].value !== after[key].value) {
        said.push(after[key].label + ": " + after[key].value);
        var node = document.querySelector('[data-counter="' + key + '"]');
        if (node && node.parentNode) node.parentNode.classList.add("counter--changed");
      }
    });
    if (said.length && window.civicLive && window.civicLive.announce) window.civicLive.announce(said.join("; "));
    window.setTimeout(function () {
      var marked = document.querySelectorAll(".counter--changed");
      for (var j = 0; j < marked.length; j++) marked[j].classList.remove("counter--changed");
    }, 2000);
  }

  function refresh() {
    timer = null;
    if (stopped) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    last = Date.now();
    window
      .fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) stopped = true; // logged out or grant gone
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html) swap(html);
      })
      .catch(function () {
        /* offline: try again with the next event or poll */
      })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule() {
    if (timer) return;
    timer = window.setTimeout(refresh, Math.max(0, last + MIN_GAP_MS - Date.now()));
  }

  document.addEventListener("civic:event", function (e) {
    if (e.detail && follows(e.detail.topic)) schedule();
  });
  document.addEventListener("civic:reset", function (e) {
    if (e.detail && follows(e.detail.topic)) {
      e.preventDefault();
      schedule();
    }
  });
  if (pollSeconds > 0) {
    window.setInterval(function () {
      if (document.visibilityState !== "hidden") schedule();
    }, pollSeconds * 1000);
  }
})();
