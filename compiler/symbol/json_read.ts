/**
 * Reading MXNet symbol JSON of every vintage: the NNVM format (1.x), the pre-NNVM format
 * (`param`/`attr` keys, 2-element inputs), and 0.8 files (visible hidden keys, BatchNorm
 * without auxiliary inputs), upgraded as MXNet's legacy_json_util does.
 */
import { Node, NodeEntry } from "../ir/node.js";
import { findOp } from "../ops/registry.js";
import { GraphError, KilnError } from "../base/errors.js";
import { Symbol } from "./symbol.js";

interface JsonNode {
  op: string;
  name: string;
  attrs?: Record<string, unknown>;
  attr?: Record<string, unknown>;
  param?: Record<string, unknown>;
  inputs: unknown[];
  control_deps?: number[];
}

/** Keys 0.8 files stored without the double underscores. */
const LEGACY_HIDDEN = ["ctx_group", "lr_mult", "wd_mult", "force_mirroring", "mirror_stage"];

function upgradeKey(key: string, legacy: boolean): string {
  if (!legacy || key.startsWith("__")) return key;
  return LEGACY_HIDDEN.some((h) => key === h || key.endsWith(`_${h}`)) ? `__${key}__` : key;
}

function collectAttrs(jn: JsonNode, where: string, legacy: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const src of [jn.param, jn.attr, jn.attrs]) {
    if (src === undefined || src === null) continue;
    if (typeof src !== "object") throw new GraphError(`${where}: attributes must be an object`);
    for (const [k, v] of Object.entries(src)) out[upgradeKey(k, legacy)] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

function versionOf(doc: Record<string, unknown>): number {
  const attrs = doc.attrs as Record<string, unknown> | undefined;
  const v = attrs?.mxnet_version;
  if (Array.isArray(v) && typeof v[1] === "number") return v[1];
  return 800; // files without a version are MXNet 0.8
}

export function symbolFromJSON(text: string): Symbol {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new KilnError(`symbol JSON is malformed: ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== "object" || !Array.isArray(doc.nodes) || !Array.isArray(doc.heads))
    throw new GraphError(`symbol JSON must be an object with "nodes" and "heads" arrays`);
  const legacy = versionOf(doc) < 900;
  const jnodes = doc.nodes as JsonNode[];
  const built: Node[] = [];
  jnodes.forEach((jn, id) => {
    const where = `symbol JSON node ${id}${jn && typeof jn.name === "string" ? ` (${jn.name})` : ""}`;
    if (!jn || typeof jn.op !== "string" || typeof jn.name !== "string" || !Array.isArray(jn.inputs))
      throw new GraphError(`${where}: each node needs "op", "name" and "inputs"`);
    const attrs = collectAttrs(jn, where, legacy);
    const inputs: NodeEntry[] = jn.inputs.map((inp, k) => {
      if (!Array.isArray(inp) || inp.length < 2 || inp.length > 3 || !inp.every((x) => Number.isInteger(x)))
        throw new GraphError(`${where}: input ${k} must be [node, output] or [node, output, version], got ${JSON.stringify(inp)}`);
      const [src, idx, version] = inp as number[];
      if (src < 0 || src >= id) throw new GraphError(`${where}: input ${k} refers to node ${src}, which does not come before it`);
      if (idx < 0 || idx >= built[src].numOutputs)
        throw new GraphError(`${where}: input ${k} refers to output ${idx} of ${built[src].name}, which has ${built[src].numOutputs}`);
      return { node: built[src], index: idx, version: version ?? 0 };
    });
    const controlDeps = (jn.control_deps ?? []).map((d) => {
      if (!Number.isInteger(d) || d < 0 || d >= id) throw new GraphError(`${where}: bad control dependency ${d}`);
      return built[d];
    });
    if (jn.op === "null") {
      built.push(new Node(null, jn.name, attrs, [], controlDeps));
      return;
    }
    const op = findOp(jn.op);
    if (!op) throw new GraphError(`${where}: unknown operator "${jn.op}"`);
    // 0.8-era BatchNorm had no moving_mean/moving_var inputs; MXNet adds them on load.
    if (op.name === "BatchNorm" && inputs.length === 3) {
      for (const aux of ["moving_mean", "moving_var"]) inputs.push(new Node(null, `${jn.name}_${aux}`, {}, []).entry(0));
    }
    try {
      built.push(new Node(op, jn.name, attrs, inputs, controlDeps));
    } catch (e) {
      throw new GraphError(`${where}: ${(e as Error).message}`);
    }
  });
  const heads = (doc.heads as unknown[]).map((h, k) => {
    if (!Array.isArray(h) || h.length < 2 || !Number.isInteger(h[0]) || h[0] < 0 || h[0] >= built.length)
      throw new GraphError(`symbol JSON head ${k} is invalid: ${JSON.stringify(h)}`);
    const node = built[h[0] as number];
    if (h[1] < 0 || h[1] >= node.numOutputs) throw new GraphError(`symbol JSON head ${k} refers to output ${h[1]} of ${node.name}, which has ${node.numOutputs}`);
    return node.entry(h[1] as number);
  });
  return new Symbol(heads);
}
