/*
 * civic live updates: a small, dependency-free client for /ws (see civic/realtime/PROTOCOL.md).
 *
 * Include with <script src="/static/live.js" defer></script>; no inline script is needed.
 * Topics come from data-live-topics on <body> or any element, separated by spaces:
 *   <body data-live-topics="consultation:7 proposal:12">
 * A page that knows the position its state was rendered at (Zulip's "snapshot, then apply
 * events") writes it as topic@offset with the epoch beside it, so nothing between the render and
 * the socket is lost:
 *   <body data-live-epoch="3f9c0a1b2c4d" data-live-topics="consultation:7@41">
 *
 * What it does: connects, subscribes, remembers (epoch, offset) per topic in sessionStorage,
 * reconnects with exponential backoff and jitter and resumes from there, drops events it has
 * already seen (one event arrives once per topic it was sent to), and
 *   - dispatches `civic:event` on document, detail {topic, event, offset, epoch};
 *   - on `reset` (the gap could not be replayed) reloads the page, at most once per 10 s;
 *   - sets the text of elements with data-live-count="proposal:12:support_count" from events
 *     whose data has proposal_id 12 and a support_count.
 *   - on a `presence` frame (how many follow a topic now), shows elements with
 *     data-live-presence="consultation:7" with the count put into their data-one/data-other
 *     wording ("{n}" is the number), and dispatches `civic:presence` {topic, count}; they are
 *     hidden again while the socket is down (the number would be stale).
 * `window.civicLive.subscribe([...])` / `.unsubscribe([...])` follow topics after load;
 * `.announce(text)` says something politely to screen readers (through #live-announcer).
 */
(function () {
  "use strict";

  var STORE_KEY = "civic.live.v1";
  var SEEN_MAX = 500; // event ids remembered to drop repeats
  var FRESH_MS = 120000; // a stored position is resumed on a new page load only if this recent
  var RELOAD_GUARD_MS = 10000; // never reload more often than this, even if resets keep coming
  var BACKOFF_BASE_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  // Close codes after which the server expects a prompt reconnect (resume): lifetime reached,
  // too slow, going away, service restart.
  var PROMPT = { 4000: true, 4008: true, 1001: true, 1012: true };

  var wanted = {}; // topic -> true while we want it
  var positions = {}; // topic -> {epoch, offset, at}
  var seenList = [];
  var seen = {};
  var socket = null;
  var attempts = 0;
  var timer = null;
  var watchdog = null;
  var heartbeatMs = 25000;
  var stopped = false;

  function now() {
    return Date.now();
  }

  function load() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "{}");
      positions = stored.positions || {};
      (stored.seen || []).forEach(remember);
    } catch (e) {
      positions = {};
    }
  }

  function save() {
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify({ positions: positions, seen: seenList }));
    } catch (e) {
      /* private mode or full: live updates still work, resuming across reloads does not */
    }
  }

  function remember(id) {
    if (seen[id]) return;
    seen[id] = true;
    seenList.push(id);
    while (seenList.length > SEEN_MAX) delete seen[seenList.shift()];
  }

  function readPage() {
    var bodyEpoch = document.body && document.body.getAttribute("data-live-epoch");
    var nodes = document.querySelectorAll("[data-live-topics]");
    for (var i = 0; i < nodes.length; i++) {
      var epoch = nodes[i].getAttribute("data-live-epoch") || bodyEpoch;
      var items = (nodes[i].getAttribute("data-live-topics") || "").split(/\s+/);
      for (var j = 0; j < items.length; j++) {
        if (!items[j]) continue;
        var parts = items[j].split("@");
        var topic = parts[0];
        wanted[topic] = true;
        var offset = parts.length > 1 ? parseInt(parts[1], 10) : NaN;
        if (epoch && offset >= 0) {
          // The page's own snapshot position wins over anything stored.
          positions[topic] = { epoch: epoch, offset: offset, at: now() };
        } else if (positions[topic] && now() - positions[topic].at > FRESH_MS) {
          delete positions[topic]; // too old to be worth replaying into a freshly rendered page
        }
      }
    }
  }

  function url() {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + "/ws";
  }

  function send(message) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(message));
  }

  function subscribeFrame(topics) {
    var map = {};
    topics.forEach(function (topic) {
      var at = positions[topic];
      map[topic] = at ? { epoch: at.epoch, offset: at.offset } : {};
    });
    return { type: "subscribe", topics: map };
  }

  function connect() {
    timer = null;
    if (stopped || socket || !Object.keys(wanted).length) return;
    try {
      socket = new WebSocket(url());
    } catch (e) {
      socket = null;
      schedule(false);
      return;
    }
    socket.onmessage = onMessage;
    socket.onclose = onClose;
  }

  function schedule(prompt) {
    if (stopped || timer) return;
    var delay;
    if (prompt) {
      delay = 250 + Math.random() * 750;
    } else {
      // Full jitter: a server restart must not bring every browser back in the same second.
      var cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * Math.pow(2, attempts));
      delay = Math.random() * cap;
      attempts += 1;
    }
    timer = window.setTimeout(connect, delay);
  }

  function onClose(e) {
    socket = null;
    window.clearTimeout(watchdog);
    hidePresence();
    schedule(!!PROMPT[e.code]);
  }

  function armWatchdog() {
    // Browsers cannot see protocol pings: a silent socket for 2.5 heartbeats is a dead one.
    window.clearTimeout(watchdog);
    watchdog = window.setTimeout(function () {
      if (socket) socket.close();
    }, heartbeatMs * 2.5);
  }

  function onMessage(message) {
    armWatchdog();
    var frame;
    try {
      frame = JSON.parse(message.data);
    } catch (e) {
      return;
    }
    switch (frame.type) {
      case "welcome":
        attempts = 0;
        heartbeatMs = (frame.heartbeat || 25) * 1000;
        armWatchdog();
        send(subscribeFrame(Object.keys(wanted)));
        break;
      case "subscribed":
        positions[frame.topic] = { epoch: frame.epoch, offset: frame.offset, at: now() };
        save();
        break;
      case "event":
        onEvent(frame);
        break;
      case "reset":
        onReset(frame);
        break;
      case "presence":
        onPresence(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        break; // pong, heartbeat, unsubscribed, and whatever a newer server adds
    }
  }

  function onEvent(frame) {
    positions[frame.topic] = { epoch: frame.epoch, offset: frame.offset, at: now() };
    var event = frame.event || {};
    if (event.id && seen[event.id]) {
      save();
      return;
    }
    if (event.id) remember(event.id);
    save();
    updateCounts(event);
    document.dispatchEvent(
      new CustomEvent("civic:event", {
        detail: { topic: frame.topic, event: event, offset: frame.offset, epoch: frame.epoch },
      })
    );
  }

  function onReset(frame) {
    delete positions[frame.topic];
    save();
    var detail = { topic: frame.topic, epoch: frame.epoch };
    var allowed = document.dispatchEvent(new CustomEvent("civic:reset", { detail: detail, cancelable: true }));
    if (!allowed) return; // the page reloads its own state
    var last = 0;
    try {
      last = parseInt(window.sessionStorage.getItem(STORE_KEY + ".reloaded") || "0", 10);
      window.sessionStorage.setItem(STORE_KEY + ".reloaded", String(now()));
    } catch (e) {
      /* ignore */
    }
    if (now() - last > RELOAD_GUARD_MS) window.location.reload();
  }

  function onError(frame) {
    if (frame.topic && (frame.code === "forbidden" || frame.code === "unknown_topic")) {
      delete wanted[frame.topic]; // asking again will not change the answer
    } else if (frame.topic && frame.code === "unavailable") {
      window.setTimeout(function () {
        if (wanted[frame.topic]) send(subscribeFrame([frame.topic]));
      }, 5000);
    }
    document.dispatchEvent(new CustomEvent("civic:live-error", { detail: frame }));
  }

  function presenceNodes(topic) {
    var nodes = document.querySelectorAll("[data-live-presence]");
    var found = [];
    for (var i = 0; i < nodes.length; i++) {
      if (topic === undefined || nodes[i].getAttribute("data-live-presence") === topic) found.push(nodes[i]);
    }
    return found;
  }

  function onPresence(frame) {
    var count = parseInt(frame.count, 10);
    if (!frame.topic || !(count >= 0)) return;
    presenceNodes(frame.topic).forEach(function (node) {
      var wording = node.getAttribute(count === 1 ? "data-one" : "data-other") || "{n}";
      node.textContent = wording.replace("{n}", String(count));
      node.hidden = false;
    });
    document.dispatchEvent(new CustomEvent("civic:presence", { detail: { topic: frame.topic, count: count } }));
  }

  function hidePresence() {
    presenceNodes().forEach(function (node) {
      node.hidden = true;
    });
  }

  var announceTimer = null;

  function announce(text) {
    var region = document.getElementById("live-announcer");
    if (!region || !text) return;
    // Emptied first and refilled a moment later, so the same words twice are announced twice.
    region.textContent = "";
    window.clearTimeout(announceTimer);
    announceTimer = window.setTimeout(function () {
      region.textContent = text;
    }, 100);
  }

  function updateCounts(event) {
    var data = event.data || {};
    var nodes = document.querySelectorAll("[data-live-count]");
    for (var i = 0; i < nodes.length; i++) {
      var parts = nodes[i].getAttribute("data-live-count").split(":");
      if (parts.length !== 3) continue;
      var kind = parts[0];
      var field = parts[2];
      if (String(data[kind + "_id"]) === parts[1] && data[field] !== undefined && data[field] !== null) {
        nodes[i].textContent = String(data[field]);
      }
    }
  }

  window.civicLive = {
    announce: announce,
    subscribe: function (topics) {
      var fresh = topics.filter(function (t) {
        return !wanted[t];
      });
      fresh.forEach(function (t) {
        wanted[t] = true;
      });
      if (!fresh.length) return;
      if (socket && socket.readyState === 1) send(subscribeFrame(fresh));
      else if (!socket) connect();
    },
    unsubscribe: function (topics) {
      topics.forEach(function (t) {
        delete wanted[t];
      });
      send({ type: "unsubscribe", topics: topics });
    },
  };

  function start() {
    load();
    readPage();
    save();
    connect();
  }

  // Leave cleanly when the page is put in the back/forward cache; come back when it returns.
  window.addEventListener("pagehide", function () {
    stopped = true;
    window.clearTimeout(timer);
    timer = null;
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) {
      stopped = false;
      connect();
    }
  });
  window.addEventListener("online", function () {
    if (!socket) {
      window.clearTimeout(timer);
      timer = null;
      connect();
    }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
