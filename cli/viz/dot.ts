/** `kiln viz --format dot`: Graphviz source, top to bottom, clusters as nested subgraphs. */
import type { VizGraph, VizNode } from "./graph.js";

const FILL: Record<string, string> = {
  conv: "#d0ebff",
  fc: "#e5dbff",
  norm: "#fff3bf",
  act: "#d3f9d8",
  pool: "#ffe8cc",
  loss: "#ffc9c9",
  merge: "#e9ecef",
  shape: "#f1f3f5",
  other: "#f8f9fa",
  input: "#ffffff",
  param: "#f8f9fa",
};

/** A DOT double-quoted string. */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function nodeLine(n: VizNode, indent: string): string {
  const attrs = [
    `label=${dotString(n.lines.join("\n"))}`,
    `fillcolor=${dotString(FILL[n.category] ?? "#f8f9fa")}`,
    `tooltip=${dotString(Object.entries(n.details).map(([k, v]) => `${k}: ${v}`).join("\n"))}`,
  ];
  if (n.kind === "input") attrs.push("shape=box", 'style="rounded,filled,bold"');
  if (n.kind === "param") attrs.push('style="dashed,filled"', 'color="#adb5bd"', 'fontcolor="#868e96"', "fontsize=9");
  return `${indent}${dotString(n.id)} [${attrs.join(", ")}];`;
}

export function renderDot(g: VizGraph): string {
  const out: string[] = [];
  out.push(`digraph ${dotString(g.title)} {`);
  out.push(`  rankdir=TB; newrank=true; nodesep=0.3; ranksep=0.35;`);
  out.push(`  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, margin="0.12,0.05"];`);
  out.push(`  edge [fontname="Helvetica", fontsize=8, fontcolor="#1c7ed6", color="#868e96", arrowsize=0.6];`);
  const children = new Map<string | undefined, string[]>();
  for (const c of g.clusters) children.set(c.parent, [...(children.get(c.parent) ?? []), c.id]);
  const members = new Map<string | undefined, VizNode[]>();
  for (const n of g.nodes) members.set(n.cluster, [...(members.get(n.cluster) ?? []), n]);
  const info = new Map(g.clusters.map((c) => [c.id, c]));
  let k = 0;
  const emit = (cluster: string, indent: string): void => {
    const c = info.get(cluster)!;
    out.push(`${indent}subgraph ${dotString(`cluster_${k++}_${cluster}`)} {`);
    out.push(
      `${indent}  label=${dotString(c.label)}; tooltip=${dotString(c.title)}; labeljust=l; fontname="Helvetica"; fontsize=9; ` +
        (c.kind === "kernel" ? 'style="rounded,filled"; color="#f08c00"; fillcolor="#fff4e6"; fontcolor="#e8590c";' : 'style="rounded,dashed"; color="#adb5bd"; fontcolor="#868e96";'),
    );
    for (const n of members.get(cluster) ?? []) out.push(nodeLine(n, indent + "  "));
    for (const child of children.get(cluster) ?? []) emit(child, indent + "  ");
    out.push(`${indent}}`);
  };
  for (const n of members.get(undefined) ?? []) out.push(nodeLine(n, "  "));
  for (const c of children.get(undefined) ?? []) emit(c, "  ");
  for (const e of g.edges) {
    const attrs = e.label ? [`label=${dotString(e.label)}`] : [];
    if (e.param) attrs.push('style=dashed', 'color="#ced4da"');
    out.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${attrs.length ? ` [${attrs.join(", ")}]` : ""};`);
  }
  out.push("}");
  return out.join("\n") + "\n";
}
