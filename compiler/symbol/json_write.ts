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

export function graphToJSON(graph: Graph): string {
  const nodes = graph.nodes.map((n) => {
    const fields = [`"op": ${q(n.op ? n.op.name : "null")}`, `"name": ${q(n.name)}`];
    if (Object.keys(n.attrs).length > 0) fields.push(`"attrs": ${writeAttrs(n.attrs, "      ")}`);
    fields.push(`"inputs": [${n.inputs.map((e) => `[${graph.nodeId(e.node)}, ${e.index}, 0]`).join(", ")}]`);
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
