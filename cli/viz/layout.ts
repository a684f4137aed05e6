/**
 * A layered (Sugiyama-style) layout, top to bottom, for `kiln viz`'s SVG:
 *   1. ranks by longest path from the sources (sources pulled down next to their first reader),
 *   2. edges spanning several ranks split by dummy points,
 *   3. order within ranks by barycenter sweeps (keeping clusters together), best crossing count kept,
 *   4. x by repeated neighbour averaging under the order and spacing constraints (isotonic
 *      regression), so chains come out straight,
 *   5. y per rank, with room for edge labels and cluster frames.
 * The graph itself is a @dagrejs/graphlib multigraph.
 */
import { Graph, alg } from "@dagrejs/graphlib";
import { clusterSep, commonPrefix, countCrossings, isotonic, sortWithClusters } from "./layout_steps.js";
import type { LNode } from "./layout_steps.js";

export interface LayoutNodeInput {
  id: string;
  width: number;
  height: number;
  /** Clusters from the outermost to the innermost. */
  clusters: readonly string[];
  /** A node that follows its neighbours without pulling them (a parameter beside its layer). */
  minor?: boolean;
}

export interface LayoutEdgeInput {
  from: string;
  to: string;
  /** Output index at the source (edges of one output share a port). */
  port: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface PlacedNode {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  rank: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  port: number;
  points: Point[];
}

export interface PlacedCluster {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
  depth: number;
}

export interface Layout {
  width: number;
  height: number;
  nodes: Map<string, PlacedNode>;
  edges: PlacedEdge[];
  clusters: PlacedCluster[];
  crossings: number;
}

export interface LayoutOptions {
  /** Horizontal gap between neighbours in a rank. */
  nodeGap?: number;
  /** Vertical gap between ranks (before cluster frames). */
  rankGap?: number;
  /** Padding of a cluster frame, and the height of its label. */
  clusterPad?: number;
  clusterLabel?: number;
  margin?: number;
  /** Barycenter sweeps. */
  iterations?: number;
}


export function layeredLayout(nodesIn: readonly LayoutNodeInput[], edgesIn: readonly LayoutEdgeInput[], opts: LayoutOptions = {}): Layout {
  const nodeGap = opts.nodeGap ?? 28;
  const rankGap = opts.rankGap ?? 40;
  const pad = opts.clusterPad ?? 10;
  const labelH = opts.clusterLabel ?? 16;
  const margin = opts.margin ?? 20;

  const g = new Graph({ directed: true, multigraph: true });
  for (const n of nodesIn) g.setNode(n.id, n);
  edgesIn.forEach((e, i) => {
    if (e.from !== e.to && g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to, e, `e${i}`);
  });
  if (!alg.isAcyclic(g)) throw new Error("layeredLayout: the graph has a cycle");

  // 1. Ranks.
  const order = alg.topsort(g);
  const rank = new Map<string, number>();
  for (const v of order) rank.set(v, Math.max(0, ...(g.predecessors(v) ?? []).map((u) => (rank.get(u) ?? 0) + 1)));
  for (const v of [...order].reverse()) {
    if ((g.predecessors(v) ?? []).length > 0) continue;
    const succ = (g.successors(v) ?? []).map((w) => rank.get(w) ?? 0);
    if (succ.length) rank.set(v, Math.min(...succ) - 1);
  }

  // 2. Layer nodes with dummies on long edges.
  const L = new Map<string, LNode>();
  const input = new Map(nodesIn.map((n) => [n.id, n]));
  for (const v of order) {
    const n = input.get(v)!;
    L.set(v, { id: v, width: n.width, height: n.height, clusters: n.clusters, dummy: false, rank: rank.get(v)!, order: 0, x: 0 });
  }
  const chains: { edge: LayoutEdgeInput; path: string[] }[] = [];
  const adjDown = new Map<string, string[]>();
  const adjUp = new Map<string, string[]>();
  const link = (a: string, b: string): void => {
    adjDown.set(a, [...(adjDown.get(a) ?? []), b]);
    adjUp.set(b, [...(adjUp.get(b) ?? []), a]);
  };
  let dummyCount = 0;
  for (const e of g.edges()) {
    const edge = g.edge(e) as LayoutEdgeInput;
    const a = L.get(e.v)!;
    const b = L.get(e.w)!;
    const path = [a.id];
    const common = commonPrefix(a.clusters, b.clusters);
    for (let r = a.rank + 1; r < b.rank; r++) {
      const id = `\u0000d${dummyCount++}`;
      L.set(id, { id, width: 0, height: 0, clusters: common, dummy: true, rank: r, order: 0, x: 0 });
      path.push(id);
    }
    path.push(b.id);
    for (let i = 0; i + 1 < path.length; i++) link(path[i], path[i + 1]);
    chains.push({ edge, path });
  }
  const maxRank = Math.max(0, ...[...L.values()].map((n) => n.rank));
  const minRank = Math.min(0, ...[...L.values()].map((n) => n.rank));
  const ranks: LNode[][] = Array.from({ length: maxRank - minRank + 1 }, () => []);
  // Initial order: depth-first from the sources, so a chain's nodes start lined up.
  const seen = new Set<string>();
  const visit = (v: string): void => {
    if (seen.has(v)) return;
    seen.add(v);
    const n = L.get(v)!;
    ranks[n.rank - minRank].push(n);
    for (const w of adjDown.get(v) ?? []) visit(w);
  };
  for (const v of order) if ((adjUp.get(v) ?? []).length === 0) visit(v);
  for (const v of L.keys()) visit(v);
  ranks.forEach((r) => r.forEach((n, i) => (n.order = i)));

  // 3. Barycenter ordering.
  let best = ranks.map((r) => [...r]);
  let bestCross = countCrossings(ranks, adjDown);
  const iterations = opts.iterations ?? 12;
  for (let it = 0; it < iterations && bestCross > 0; it++) {
    const down = it % 2 === 0;
    const seq = down ? ranks.map((_, i) => i).slice(1) : ranks.map((_, i) => i).reverse().slice(1);
    for (const ri of seq) {
      const nb = down ? adjUp : adjDown;
      const key = new Map<LNode, number>();
      for (const n of ranks[ri]) {
        const ps = (nb.get(n.id) ?? []).map((u) => L.get(u)!.order);
        key.set(n, ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : n.order);
      }
      ranks[ri] = sortWithClusters(ranks[ri], key);
      ranks[ri].forEach((n, i) => (n.order = i));
    }
    const c = countCrossings(ranks, adjDown);
    if (c < bestCross) {
      bestCross = c;
      best = ranks.map((r) => [...r]);
    }
  }
  best.forEach((r, ri) => {
    ranks[ri] = r;
    r.forEach((n, i) => (n.order = i));
  });

  // 4. x coordinates.
  const sep = (a: LNode, b: LNode): number => (a.width + b.width) / 2 + (a.dummy || b.dummy ? nodeGap / 2 : nodeGap) + clusterSep(a, b, pad);
  for (const r of ranks) {
    let x = 0;
    r.forEach((n, i) => {
      if (i > 0) x += sep(r[i - 1], n);
      n.x = x;
    });
    const mid = x / 2;
    r.forEach((n) => (n.x -= mid));
  }
  const place = (r: LNode[], want: (n: LNode) => number | undefined, weight: (n: LNode) => number): void => {
    const d = r.map((n) => want(n) ?? n.x);
    const w = r.map(weight);
    const offs: number[] = [0];
    for (let i = 1; i < r.length; i++) offs.push(offs[i - 1] + sep(r[i - 1], r[i]));
    const y = isotonic(d.map((v, i) => v - offs[i]), w);
    r.forEach((n, i) => (n.x = y[i] + offs[i]));
  };
  const minor = new Set(nodesIn.filter((n) => n.minor).map((n) => n.id));
  const mean = (all: string[] | undefined): number | undefined => {
    const major = all?.filter((v) => !minor.has(v));
    const ids = major && major.length ? major : all;
    return ids && ids.length ? ids.reduce((a, v) => a + L.get(v)!.x, 0) / ids.length : undefined;
  };
  // Alternate sweeps, ending with a downward one: a chain then sits straight under its head.
  for (let it = 0; it < 25; it++) {
    const down = it % 2 === 0;
    const seq = down ? ranks.map((_, i) => i) : ranks.map((_, i) => i).reverse();
    for (const ri of seq)
      place(
        ranks[ri],
        (n) => {
          const a = mean(adjUp.get(n.id));
          const b = mean(adjDown.get(n.id));
          return down ? (a ?? b) : (b ?? a);
        },
        (n) => (n.dummy ? 2 : minor.has(n.id) ? 0.05 : 1 + (adjUp.get(n.id)?.length ?? 0) + (adjDown.get(n.id)?.length ?? 0)),
      );
  }

  // 5. y coordinates, with room for cluster frames that close or open between ranks.
  const firstRank = new Map<string, number>();
  const lastRank = new Map<string, number>();
  for (const n of L.values())
    if (!n.dummy)
      for (const c of n.clusters) {
        firstRank.set(c, Math.min(firstRank.get(c) ?? Infinity, n.rank - minRank));
        lastRank.set(c, Math.max(lastRank.get(c) ?? -Infinity, n.rank - minRank));
      }
  const rankHeight = ranks.map((r) => Math.max(0, ...r.map((n) => n.height)));
  const ys: number[] = [];
  let y = margin;
  ranks.forEach((r, ri) => {
    let opening = 0;
    for (const n of r) if (!n.dummy) opening = Math.max(opening, n.clusters.filter((c) => firstRank.get(c) === ri).length);
    if (ri === 0) y += opening * (pad + labelH);
    else {
      let closing = 0;
      for (const n of ranks[ri - 1]) if (!n.dummy) closing = Math.max(closing, n.clusters.filter((c) => lastRank.get(c) === ri - 1).length);
      y += rankGap + closing * pad + opening * (pad + labelH);
    }
    ys.push(y + rankHeight[ri] / 2);
    y += rankHeight[ri];
  });

  // Cluster frames, innermost first so an outer frame holds its inner ones.
  const depthOf = new Map<string, number>();
  for (const n of L.values()) n.clusters.forEach((c, d) => depthOf.set(c, d));
  const boxes = new Map<string, { x0: number; y0: number; x1: number; y1: number }>();
  const grow = (c: string, x0: number, y0: number, x1: number, y1: number): void => {
    const b = boxes.get(c);
    boxes.set(c, b ? { x0: Math.min(b.x0, x0), y0: Math.min(b.y0, y0), x1: Math.max(b.x1, x1), y1: Math.max(b.y1, y1) } : { x0, y0, x1, y1 });
  };
  const byDepth = [...depthOf].sort((a, b) => b[1] - a[1]);
  for (const [c, d] of byDepth) {
    for (const n of L.values()) {
      if (n.dummy || n.clusters[d] !== c) continue;
      if (n.clusters.length === d + 1) {
        const cy = ys[n.rank - minRank];
        grow(c, n.x - n.width / 2, cy - n.height / 2, n.x + n.width / 2, cy + n.height / 2);
      } else {
        const inner = boxes.get(n.clusters[d + 1]);
        if (inner) grow(c, inner.x0, inner.y0, inner.x1, inner.y1);
      }
    }
    const b = boxes.get(c);
    if (b) boxes.set(c, { x0: b.x0 - pad, y0: b.y0 - pad - labelH, x1: b.x1 + pad, y1: b.y1 + pad });
  }

  // Shift everything to start at the margin.
  let minX = Infinity;
  let maxX = -Infinity;
  for (const n of L.values()) {
    minX = Math.min(minX, n.x - n.width / 2);
    maxX = Math.max(maxX, n.x + n.width / 2);
  }
  for (const b of boxes.values()) {
    minX = Math.min(minX, b.x0);
    maxX = Math.max(maxX, b.x1);
  }
  if (!Number.isFinite(minX)) minX = maxX = 0;
  const dx = margin - minX;

  const nodes = new Map<string, PlacedNode>();
  for (const n of L.values())
    if (!n.dummy) nodes.set(n.id, { id: n.id, x: n.x + dx, y: ys[n.rank - minRank], width: n.width, height: n.height, rank: n.rank - minRank });

  // Edge routes: the source's output port (one per output index), the dummies, a port spread along the target's top.
  const inPorts = new Map<string, { chain: number; x: number }[]>();
  chains.forEach((c, i) => {
    const prev = L.get(c.path[c.path.length - 2])!;
    inPorts.set(c.edge.to, [...(inPorts.get(c.edge.to) ?? []), { chain: i, x: prev.x }]);
  });
  const targetX = new Map<number, number>();
  for (const [to, list] of inPorts) {
    const t = nodes.get(to)!;
    list.sort((a, b) => a.x - b.x || a.chain - b.chain);
    const k = list.length;
    const span = Math.min(t.width * 0.6, 16 * (k - 1));
    list.forEach((p, j) => targetX.set(p.chain, t.x + (k === 1 ? 0 : -span / 2 + (span * j) / (k - 1))));
  }
  const outPorts = new Map<string, number[]>();
  for (const c of chains) outPorts.set(c.edge.from, [...new Set([...(outPorts.get(c.edge.from) ?? []), c.edge.port])].sort((a, b) => a - b));
  const edges: PlacedEdge[] = chains.map((c, i) => {
    const s = nodes.get(c.edge.from)!;
    const t = nodes.get(c.edge.to)!;
    const ports = outPorts.get(c.edge.from)!;
    const pi = ports.indexOf(c.edge.port);
    const sx = ports.length === 1 ? s.x : s.x - s.width * 0.3 + (s.width * 0.6 * pi) / (ports.length - 1);
    const pts: Point[] = [{ x: sx, y: s.y + s.height / 2 }];
    for (const id of c.path.slice(1, -1)) {
      const d = L.get(id)!;
      pts.push({ x: d.x + dx, y: ys[d.rank - minRank] });
    }
    pts.push({ x: targetX.get(i) ?? t.x, y: t.y - t.height / 2 });
    return { from: c.edge.from, to: c.edge.to, port: c.edge.port, points: pts };
  });

  const clusters: PlacedCluster[] = [...boxes].map(([id, b]) => ({ id, x: b.x0 + dx, y: b.y0, width: b.x1 - b.x0, height: b.y1 - b.y0, depth: depthOf.get(id) ?? 0 }));
  clusters.sort((a, b) => a.depth - b.depth);
  let maxY = y;
  for (const b of clusters) maxY = Math.max(maxY, b.y + b.height);
  return { width: maxX - minX + 2 * margin, height: maxY + margin, nodes, edges, clusters, crossings: bestCross };
}
