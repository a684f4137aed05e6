/** `kiln viz --format svg`: the layered layout drawn as a standalone SVG document. */
import type { VizGraph, VizNode } from "./graph.js";
import { layeredLayout } from "./layout.js";
import type { Layout, Point } from "./layout.js";

/** Monospace metrics: every character is 0.6 em wide, so widths are known without a font. */
const FONT = 12;
const SMALL = 10.5;
const CHAR = 0.6;
const LINE = 15;
const PAD_X = 10;
const PAD_Y = 7;

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** Font size of each label line: the name and op line normal, folded params and head shapes small. */
function lineSize(n: VizNode, i: number): number {
  if (n.kind !== "op") return i === 0 ? FONT : SMALL;
  return i < 2 ? FONT : SMALL;
}

export function nodeSize(n: VizNode): { width: number; height: number } {
  const w = Math.max(...n.lines.map((l, i) => l.length * lineSize(n, i) * CHAR));
  return { width: Math.max(n.kind === "param" ? 40 : 64, Math.ceil(w + 2 * PAD_X)), height: n.lines.length * LINE + 2 * PAD_Y };
}

export const STYLE = `
.node rect { stroke: #495057; stroke-width: 1; }
.node text { fill: #212529; }
.node .name { font-weight: bold; }
.node .sub { fill: #495057; }
.node .small { fill: #6c757d; }
.node.conv rect { fill: #d0ebff; } .node.fc rect { fill: #e5dbff; } .node.norm rect { fill: #fff3bf; }
.node.act rect { fill: #d3f9d8; } .node.pool rect { fill: #ffe8cc; } .node.loss rect { fill: #ffc9c9; }
.node.merge rect { fill: #e9ecef; } .node.shape rect { fill: #f1f3f5; } .node.other rect { fill: #f8f9fa; }
.node.input rect { fill: #ffffff; stroke-width: 1.5; }
.node.param rect { fill: #f8f9fa; stroke: #adb5bd; stroke-dasharray: 3 2; } .node.param text { fill: #868e96; }
.edge path { fill: none; stroke: #868e96; stroke-width: 1.2; }
.edge.param path { stroke: #ced4da; stroke-dasharray: 3 2; }
.edge-label { fill: #1c7ed6; font-size: ${SMALL}px; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
.cluster rect { fill: #f8f9fa; fill-opacity: 0.55; stroke: #adb5bd; stroke-dasharray: 4 3; }
.cluster.depth1 rect { fill: #e7f5ff; fill-opacity: 0.5; }
.cluster.kernel rect { fill: #fff4e6; fill-opacity: 0.7; stroke: #f08c00; stroke-dasharray: none; }
.cluster text { fill: #868e96; font-size: ${SMALL}px; }
.cluster.kernel text { fill: #e8590c; }
`;

/** A smooth path through the points with vertical tangents (edges run top to bottom). */
function pathOf(pts: readonly Point[]): string {
  const f = (v: number): string => v.toFixed(1);
  let d = `M${f(pts[0].x)},${f(pts[0].y)}`;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    const my = (b.y - a.y) / 2;
    d += ` C${f(a.x)},${f(a.y + my)} ${f(b.x)},${f(b.y - my)} ${f(b.x)},${f(b.y)}`;
  }
  return d;
}

export interface RenderedSvg {
  svg: string;
  layout: Layout;
}

export function renderSvg(g: VizGraph): RenderedSvg {
  const clusterChain = new Map<string, string[]>();
  const parents = new Map(g.clusters.map((c) => [c.id, c.parent]));
  const chainOf = (c: string | undefined): string[] => {
    if (c === undefined) return [];
    const hit = clusterChain.get(c);
    if (hit) return hit;
    const chain = [...chainOf(parents.get(c)), c];
    clusterChain.set(c, chain);
    return chain;
  };
  const layout = layeredLayout(
    g.nodes.map((n) => ({ id: n.id, ...nodeSize(n), clusters: chainOf(n.cluster), minor: n.kind === "param" })),
    g.edges.map((e) => ({ from: e.from, to: e.to, port: e.index })),
  );
  const W = Math.ceil(layout.width);
  const H = Math.ceil(layout.height);
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="${FONT}">`,
  );
  out.push(`<title>${escapeXml(g.title)}</title>`);
  out.push(`<style>${STYLE}</style>`);
  out.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#868e96"/></marker></defs>`);
  out.push(`<rect class="background" x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);

  const clusterInfo = new Map(g.clusters.map((c) => [c.id, c]));
  out.push(`<g class="clusters">`);
  for (const c of layout.clusters) {
    const info = clusterInfo.get(c.id);
    const cls = `cluster ${info?.kind ?? "stage"} depth${c.depth}`;
    out.push(
      `<g class="${cls}" id="cluster-${escapeXml(c.id)}"><title>${escapeXml(info?.title ?? c.id)}</title>` +
        `<rect x="${c.x.toFixed(1)}" y="${c.y.toFixed(1)}" width="${c.width.toFixed(1)}" height="${c.height.toFixed(1)}" rx="6"/>` +
        `<text x="${(c.x + 8).toFixed(1)}" y="${(c.y + 13).toFixed(1)}">${escapeXml(info?.label ?? c.id)}</text></g>`,
    );
  }
  out.push(`</g>`);

  const edgeInfo = new Map<string, { label: string; param: boolean }>();
  for (const e of g.edges) edgeInfo.set(`${e.from}\u0000${e.to}\u0000${e.index}`, { label: e.label, param: !!e.param });
  out.push(`<g class="edges">`);
  for (const e of layout.edges) {
    const info = edgeInfo.get(`${e.from}\u0000${e.to}\u0000${e.port}`);
    out.push(
      `<g class="edge${info?.param ? " param" : ""}" data-from="${escapeXml(e.from)}" data-to="${escapeXml(e.to)}"><title>${escapeXml(`${e.from} → ${e.to}${info?.label ? ` ${info.label}` : ""}`)}</title>` +
        `<path d="${pathOf(e.points)}" marker-end="url(#arrow)"/></g>`,
    );
  }
  out.push(`</g>`);

  // One shape label per tensor (source output), just below where it leaves its node.
  out.push(`<g class="edge-labels">`);
  const labelled = new Set<string>();
  for (const e of layout.edges) {
    const info = edgeInfo.get(`${e.from}\u0000${e.to}\u0000${e.port}`);
    const key = `${e.from}\u0000${e.port}`;
    if (!info?.label || labelled.has(key) || info.param) continue;
    labelled.add(key);
    const p = e.points[0];
    out.push(`<text class="edge-label" x="${(p.x + 5).toFixed(1)}" y="${(p.y + 13).toFixed(1)}">${escapeXml(info.label)}</text>`);
  }
  out.push(`</g>`);

  out.push(`<g class="nodes">`);
  for (const n of g.nodes) {
    const p = layout.nodes.get(n.id);
    if (!p) continue;
    const x0 = p.x - p.width / 2;
    const y0 = p.y - p.height / 2;
    const rx = n.kind === "input" ? Math.min(p.height / 2, 14) : 4;
    const tip = Object.entries(n.details)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n");
    const texts = n.lines.map((l, i) => {
      const cls = i === 0 ? "name" : i === 1 && n.kind === "op" ? "sub" : "small";
      const size = lineSize(n, i);
      const ty = y0 + PAD_Y + LINE * i + LINE * 0.75;
      return `<text class="${cls}" x="${p.x.toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="middle"${size !== FONT ? ` font-size="${size}"` : ""}>${escapeXml(l)}</text>`;
    });
    out.push(
      `<g class="node ${n.kind} ${n.category}" id="node-${escapeXml(n.id)}" data-name="${escapeXml(n.name)}"><title>${escapeXml(tip)}</title>` +
        `<rect x="${x0.toFixed(1)}" y="${y0.toFixed(1)}" width="${p.width.toFixed(1)}" height="${p.height.toFixed(1)}" rx="${rx}"/>` +
        texts.join("") +
        `</g>`,
    );
  }
  out.push(`</g>`);
  out.push(`</svg>`);
  return { svg: out.join("\n") + "\n", layout };
}
