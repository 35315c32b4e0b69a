/*
 * A consultation page's live half (web/templates/participation/consultation.html).
 *
 * live.js follows consultation:{id} and updates support counts itself; here, from the same
 * events: a proposal that becomes public is listed under "New since you opened this page" (the
 * list below keeps its order and filters until a reload) and announced politely; comment counts
 * follow comments posted, deleted, hidden and restored. live.js drops repeated events, so each
 * changes a count once. Viewer counts ("N people viewing now") are live.js's too.
 */
(function () {
  "use strict";

  var section = document.querySelector("[data-consultation-live]");
  if (!section) return;
  var topic = "consultation:" + section.getAttribute("data-consultation-live");
  var box = document.getElementById("live-new-proposals");
  var list = box && box.querySelector("ul");

  function addNew(data) {
    if (!list || !data.proposal_id) return;
    var id = String(data.proposal_id);
    if (section.querySelector('[data-proposal-id="' + id + '"]')) return; // already shown
    var item = document.createElement("li");
    item.setAttribute("data-proposal-id", id);
    item.className = "item--new";
    var link = document.createElement("a");
    link.href = "/proposals/" + id;
    link.textContent = data.title || "#" + id;
    item.appendChild(link);
    list.insertBefore(item, list.firstChild);
    box.hidden = false;
    if (window.civicLive && window.civicLive.announce) {
      window.civicLive.announce((section.getAttribute("data-label-new") || "New proposal:") + " " + link.textContent);
    }
  }

  function bump(proposalId, delta) {
    var node = section.querySelector('[data-live-comments="' + proposalId + '"]');
    if (!node) return;
    var count = Math.max(0, (parseInt(node.getAttribute("data-count"), 10) || 0) + delta);
    node.setAttribute("data-count", String(count));
    var wording = node.getAttribute(count === 1 ? "data-one" : "data-other") || "{n}";
    node.textContent = wording.replace("{n}", String(count));
  }

  document.addEventListener("civic:event", function (e) {
    var detail = e.detail || {};
    if (detail.topic !== topic) return;
    var event = detail.event || {};
    var data = event.data || {};
    switch (event.type) {
      case "proposal.submitted":
      case "proposal.approved":
      case "proposal.restored":
        if (data.status === "published") addNew(data);
        break;
      case "comment.posted":
      case "comment.restored":
        bump(data.proposal_id, 1);
        break;
      case "comment.deleted":
      case "comment.hidden":
        bump(data.proposal_id, -1);
        break;
      default:
        break;
    }
  });
})();
