/**
 * MXNet's symbol JSON, written the way MXNet 1.9 writes it (dmlc's pretty printer: field
 * order, 2-space indent, ", " separators), so a diff against an MXNet file is readable.
 */
import type { Symbol } from "./symbol.js";
import { Graph } from "../ir/graph.js";

/** MXNet 1.9.1, as major*10000 + minor*100 + patch. */
export const MXNET_VERSION = 10901;

const q = (s: string): string => JSON.stringify(s);

function writeAttrs(attrs: Readonly<Record<string, string>>, indent: string): string {
  const keys = Object.keys(attrs).sort();
  if (keys.length === 1) return `{${q(keys[0])}: ${q(attrs[keys[0]])}}`;
  const inner = keys.map((k) => `${indent}  ${q(k)}: ${q(attrs[k])}`).join(", \n");
  return `{\n${inner}\n${indent}}`;
}

/**
 * The third field of an input entry: NNVM's variable version, bumped each time an op mutates
 * the variable (a freshly composed BatchNorm's moving stats are version 1). Entries read from
 * a file keep the version the file gave.
 */
function inputVersions(graph: Graph): number[][] {
  const version = new Map<number, number>();
  return graph.nodes.map((n) => {
    const v = n.inputs.map((e) => e.version ?? (e.node.isVariable ? (version.get(graph.nodeId(e.node)) ?? 0) : 0));
    for (const i of n.mutableInputs) {
      const src = n.inputs[i].node;
      if (!src.isVariable || n.inputs[i].version !== undefined) continue;
      const id = graph.nodeId(src);
      const next = (version.get(id) ?? 0) + 1;
      version.set(id, next);
      v[i] = next;
    }
    return v;
  });
}

export function graphToJSON(graph: Graph): string {
  const versions = inputVersions(graph);
  const nodes = graph.nodes.map((n, nid) => {
    const fields = [`"op": ${q(n.op ? n.op.name : "null")}`, `"name": ${q(n.name)}`];
    if (Object.keys(n.attrs).length > 0) fields.push(`"attrs": ${writeAttrs(n.attrs, "      ")}`);
    fields.push(`"inputs": [${n.inputs.map((e, i) => `[${graph.nodeId(e.node)}, ${e.index}, ${versions[nid][i]}]`).join(", ")}]`);
    if (n.controlDeps.length > 0) fields.push(`"control_deps": [${n.controlDeps.map((d) => graph.nodeId(d)).join(", ")}]`);
    return `    {\n${fields.map((f) => `      ${f}`).join(", \n")}\n    }`;
  });
  const heads = graph.outputs.map((e) => `[${graph.nodeId(e.node)}, ${e.index}, 0]`).join(", ");
  return [
    "{",
    `  "nodes": [\n${nodes.join(", \n")}\n  ], `,
    `  "arg_nodes": [${graph.variableIds.join(", ")}], `,
    `  "node_row_ptr": [\n${graph.rowPtr.map((r) => `    ${r}`).join(", \n")}\n  ], `,
    `  "heads": [${heads}], `,
    `  "attrs": {"mxnet_version": ["int", ${MXNET_VERSION}]}`,
    "}",
  ].join("\n");
}

export function symbolToJSON(sym: Symbol): string {
  return graphToJSON(sym.graph());
}
