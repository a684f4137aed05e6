/** Steps of the layered layout (layout.ts): ordering within ranks, crossing counts, spacing. */

/** A node of the layered graph: a real node, or a dummy point of an edge spanning several ranks. */
export interface LNode {
  id: string;
  width: number;
  height: number;
  clusters: readonly string[];
  dummy: boolean;
  rank: number;
  order: number;
  x: number;
}

export function commonPrefix(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.min(a.length, b.length) && a[i] === b[i]; i++) out.push(a[i]);
  return out;
}

/** Extra room between neighbours in different clusters: a frame's padding on each side that ends between them. */
export function clusterSep(a: LNode, b: LNode, pad: number): number {
  if (a.dummy || b.dummy) return 0;
  const common = commonPrefix(a.clusters, b.clusters).length;
  return (a.clusters.length - common + b.clusters.length - common) * pad;
}

/** Sorts a rank by its keys while keeping each cluster's nodes together (placed at their mean key). */
export function sortWithClusters(rank: LNode[], key: Map<LNode, number>): LNode[] {
  const depth = Math.max(0, ...rank.map((n) => n.clusters.length));
  const groupKey = (level: number): Map<string, number> => {
    const sum = new Map<string, { s: number; c: number }>();
    for (const n of rank) {
      const c = n.clusters[level];
      if (c === undefined) continue;
      const e = sum.get(c) ?? { s: 0, c: 0 };
      e.s += key.get(n)!;
      e.c++;
      sum.set(c, e);
    }
    return new Map([...sum].map(([c, e]) => [c, e.s / e.c]));
  };
  const levels = Array.from({ length: depth }, (_, l) => groupKey(l));
  const tuple = (n: LNode): number[] => {
    const t: number[] = [];
    for (let l = 0; l < depth; l++) {
      const c = n.clusters[l];
      t.push(c === undefined ? key.get(n)! : levels[l].get(c)!);
    }
    t.push(key.get(n)!, n.order);
    return t;
  };
  const keys = new Map(rank.map((n) => [n, tuple(n)]));
  return [...rank].sort((a, b) => {
    const ka = keys.get(a)!;
    const kb = keys.get(b)!;
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
    return 0;
  });
}

/** Edge crossings between adjacent ranks (pairwise; the graphs here are small). */
export function countCrossings(ranks: LNode[][], down: Map<string, string[]>): number {
  let total = 0;
  const orderOf = new Map<string, number>();
  for (const r of ranks) for (const n of r) orderOf.set(n.id, n.order);
  for (const r of ranks) {
    const segs: [number, number][] = [];
    for (const n of r) for (const w of down.get(n.id) ?? []) segs.push([n.order, orderOf.get(w)!]);
    segs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let i = 0; i < segs.length; i++) for (let j = i + 1; j < segs.length; j++) if (segs[i][0] < segs[j][0] && segs[i][1] > segs[j][1]) total++;
  }
  return total;
}

/** Weighted isotonic regression (pool adjacent violators): the nondecreasing y closest to v. */
export function isotonic(v: readonly number[], w: readonly number[]): number[] {
  const blocks: { sum: number; weight: number; count: number }[] = [];
  v.forEach((x, i) => {
    blocks.push({ sum: x * w[i], weight: w[i], count: 1 });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (a.sum / a.weight <= b.sum / b.weight) break;
      blocks.pop();
      a.sum += b.sum;
      a.weight += b.weight;
      a.count += b.count;
    }
  });
  const out: number[] = [];
  for (const b of blocks) for (let i = 0; i < b.count; i++) out.push(b.sum / b.weight);
  return out;
}
