/**
 * `kiln viz --format html`: the SVG in one self-contained page with pan (drag), zoom (wheel,
 * +/-), fit (0 or the button), search by name, and a details panel for the node under the
 * pointer (click pins it); the edges of that node are highlighted.
 */
import type { VizGraph } from "./graph.js";
import { escapeXml } from "./svg.js";

/** JSON safe inside a <script> element. */
function scriptJSON(v: unknown): string {
  return JSON.stringify(v).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

const CSS = `
html, body { margin: 0; height: 100%; font: 13px system-ui, sans-serif; color: #212529; }
#bar { position: fixed; top: 0; left: 0; right: 0; height: 38px; display: flex; gap: 10px; align-items: center; padding: 0 12px;
  background: #f8f9fa; border-bottom: 1px solid #dee2e6; z-index: 2; }
#bar h1 { font-size: 14px; margin: 0 12px 0 0; white-space: nowrap; }
#bar .stats { color: #6c757d; white-space: nowrap; }
#bar input { width: 220px; padding: 3px 6px; }
#bar button { padding: 3px 10px; }
#view { position: fixed; top: 39px; left: 0; right: 340px; bottom: 0; overflow: hidden; cursor: grab; background: #fff; }
#view.dragging { cursor: grabbing; }
#view svg { width: 100%; height: 100%; display: block; }
#details { position: fixed; top: 39px; right: 0; width: 340px; bottom: 0; overflow: auto; border-left: 1px solid #dee2e6;
  background: #fcfcfd; padding: 10px 12px; box-sizing: border-box; }
#details h2 { font-size: 14px; margin: 0 0 8px; word-break: break-all; }
#details table { border-collapse: collapse; width: 100%; }
#details td { vertical-align: top; padding: 3px 4px; border-bottom: 1px solid #f1f3f5; word-break: break-word; font-family: monospace; font-size: 12px; }
#details td:first-child { color: #6c757d; white-space: nowrap; font-family: system-ui, sans-serif; }
#details .hint { color: #868e96; }
.node { cursor: pointer; }
.node.hl rect { stroke: #e8590c; stroke-width: 2.5; }
.node.match rect { stroke: #1c7ed6; stroke-width: 3; }
.edge.hl path { stroke: #e8590c; stroke-width: 2.2; }
`;

const SCRIPT = `
(function () {
  var view = document.getElementById("view");
  var svg = view.querySelector("svg");
  var details = document.getElementById("details");
  var full = svg.viewBox.baseVal;
  var W = full.width, H = full.height;
  var vb = { x: 0, y: 0, w: W, h: H };
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMidYMin meet");
  function apply() { svg.setAttribute("viewBox", vb.x + " " + vb.y + " " + vb.w + " " + vb.h); }
  function aspect() { var r = view.getBoundingClientRect(); return r.height / Math.max(1, r.width); }
  function fit() {
    var a = aspect();
    // Tall networks: fit the width when the whole height would be unreadably small.
    if (H / W > 3 * a) { vb.w = W; vb.h = W * a; vb.x = 0; vb.y = 0; }
    else if (H / W > a) { vb.h = H; vb.w = H / a; vb.x = (W - vb.w) / 2; vb.y = 0; }
    else { vb.w = W; vb.h = W * a; vb.x = 0; vb.y = (H - vb.h) / 2; }
    apply();
  }
  function toSvg(cx, cy) {
    var r = view.getBoundingClientRect();
    return { x: vb.x + (cx - r.left) / r.width * vb.w, y: vb.y + (cy - r.top) / r.height * vb.h };
  }
  function zoom(f, cx, cy) {
    var p = toSvg(cx, cy);
    vb.x = p.x - (p.x - vb.x) * f; vb.y = p.y - (p.y - vb.y) * f; vb.w *= f; vb.h *= f; apply();
  }
  view.addEventListener("wheel", function (e) {
    e.preventDefault();
    // Shift+wheel pans sideways, plain wheel pans down unless Ctrl/Cmd (and pinch) zooms: tall graphs read by scrolling.
    var k = e.deltaMode === 1 ? 16 : 1;
    if (e.ctrlKey || e.metaKey) zoom(Math.exp(e.deltaY * k * 0.002), e.clientX, e.clientY);
    else if (e.shiftKey) { vb.x += e.deltaY * k * vb.w / view.clientWidth; apply(); }
    else { vb.x += e.deltaX * k * vb.w / view.clientWidth; vb.y += e.deltaY * k * vb.h / view.clientHeight; apply(); }
  }, { passive: false });
  var drag = null;
  view.addEventListener("mousedown", function (e) { drag = { x: e.clientX, y: e.clientY, vx: vb.x, vy: vb.y }; view.classList.add("dragging"); });
  window.addEventListener("mousemove", function (e) {
    if (!drag) return;
    var r = view.getBoundingClientRect();
    vb.x = drag.vx - (e.clientX - drag.x) / r.width * vb.w; vb.y = drag.vy - (e.clientY - drag.y) / r.height * vb.h; apply();
  });
  window.addEventListener("mouseup", function () { drag = null; view.classList.remove("dragging"); });
  window.addEventListener("resize", fit);
  document.getElementById("fit").onclick = fit;
  window.addEventListener("keydown", function (e) {
    if (e.target && e.target.tagName === "INPUT") return;
    var r = view.getBoundingClientRect();
    if (e.key === "+" || e.key === "=") zoom(0.8, r.left + r.width / 2, r.top + r.height / 2);
    else if (e.key === "-") zoom(1.25, r.left + r.width / 2, r.top + r.height / 2);
    else if (e.key === "0") fit();
  });

  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); }
  var pinned = null;
  function show(g) {
    var d = DETAILS[g.getAttribute("data-name")] || {};
    var rows = Object.keys(d).map(function (k) { return "<tr><td>" + esc(k) + "</td><td>" + esc(d[k]) + "</td></tr>"; }).join("");
    details.innerHTML = "<h2>" + esc(g.getAttribute("data-name")) + "</h2><table>" + rows + "</table>" + (pinned ? '<p class="hint">pinned: click the background to unpin</p>' : "");
  }
  function highlight(name, on) {
    var n = document.getElementById("node-" + name);
    if (n) n.classList.toggle("hl", on);
    svg.querySelectorAll(".edge").forEach(function (e) {
      if (e.getAttribute("data-from") === name || e.getAttribute("data-to") === name) e.classList.toggle("hl", on);
    });
  }
  svg.querySelectorAll(".node").forEach(function (g) {
    var t = g.querySelector("title"); if (t) t.remove();
    g.addEventListener("mouseenter", function () { if (!pinned) { highlight(g.getAttribute("data-name"), true); show(g); } });
    g.addEventListener("mouseleave", function () { if (!pinned) highlight(g.getAttribute("data-name"), false); });
    g.addEventListener("click", function (e) {
      e.stopPropagation();
      if (pinned) highlight(pinned.getAttribute("data-name"), false);
      pinned = g; highlight(g.getAttribute("data-name"), true); show(g);
    });
  });
  svg.addEventListener("click", function () { if (pinned) { highlight(pinned.getAttribute("data-name"), false); pinned = null; } });

  document.getElementById("search").addEventListener("input", function (e) {
    var q = e.target.value.trim().toLowerCase();
    var first = null;
    svg.querySelectorAll(".node").forEach(function (g) {
      var m = q !== "" && g.getAttribute("data-name").toLowerCase().indexOf(q) >= 0;
      g.classList.toggle("match", m);
      if (m && !first) first = g;
    });
    if (first) {
      var b = first.getBBox();
      vb.x = b.x + b.width / 2 - vb.w / 2; vb.y = b.y + b.height / 2 - vb.h / 2; apply();
    }
  });
  fit();
})();
`;

export function renderHtml(g: VizGraph, svg: string, stats: string): string {
  const details = Object.fromEntries(g.nodes.map((n) => [n.name, n.details]));
  const inline = svg.replace(/^<\?xml[^>]*>\s*/, "");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(g.title)}</title>
<style>${CSS}</style>
</head>
<body>
<div id="bar"><h1>${escapeXml(g.title)}</h1><span class="stats">${escapeXml(stats)}</span>
<input id="search" type="search" placeholder="find a node by name"><button id="fit" type="button">fit (0)</button>
<span class="stats">drag or wheel: pan · ctrl+wheel or +/-: zoom · click: pin</span></div>
<div id="view">
${inline}</div>
<aside id="details"><p class="hint">Hover over a node for its op, attributes, inputs, outputs and parameters.</p></aside>
<script>const DETAILS = ${scriptJSON(details)};</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
