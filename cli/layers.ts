/**
 * A network as a list of layers, for `kiln summary` and `kiln viz`: every operator node with
 * its output shapes, the layers (or inputs) it reads, and the parameters it owns.
 *
 * Parameters are counted from the shapes inference gives every argument, so every op counts,
 * whatever it is (MXNet's print_summary knows the formulas of a few ops only and misses the
 * rest). Each argument is counted once, by the first layer that reads it (a weight shared by
 * several layers is listed as shared by the others), and aux states (BatchNorm's moving
 * mean and variance) are counted apart from the trainable parameters.
 */
import type { Symbol, Node, OpDef } from "../index.js";
import { shapeSize } from "./format.js";

export interface LayerParam {
  /** The variable's name, e.g. `conv0_weight`. */
  name: string;
  /** The op's name for the input, e.g. `weight`, `gamma`, `moving_mean`. */
  role: string;
  shape?: number[];
  size: number;
  kind: "arg" | "aux";
  /** When another layer read it first: that layer, which counts it. */
  sharedWith?: string;
}

export interface LayerInput {
  /** A layer name, or an input variable's name. */
  name: string;
  /** Which output of that layer (0 for most). */
  index: number;
  shape?: number[];
  /** The op's name for this input (`data`, `lhs`, …). */
  role: string;
}

export interface Layer {
  name: string;
  op: string;
  node: Node;
  /** The op's key parameters in words, e.g. `7×7 /2, 64 filters`. */
  description: string;
  /** Shapes of the visible outputs (undefined where inference could not tell). */
  outputShapes: (number[] | undefined)[];
  inputs: LayerInput[];
  params: LayerParam[];
  /** Trainable parameters this layer owns (arguments, shared ones excluded). */
  paramCount: number;
  /** Aux state values this layer owns. */
  auxCount: number;
}

export interface InputVariable {
  name: string;
  shape?: number[];
  node: Node;
  /** Whether it is a label (only losses read it). */
  label: boolean;
}

export interface NetworkSummary {
  inputs: InputVariable[];
  layers: Layer[];
  /** Output names as the symbol lists them, with shapes. */
  outputs: { name: string; shape?: number[] }[];
  trainableParams: number;
  auxParams: number;
  totalParams: number;
  /** Arguments read by more than one layer. */
  shared: string[];
  /** Whether every shape could be inferred. */
  complete: boolean;
}

const PARAM_SUFFIX = /(weight|bias|gamma|beta|moving_mean|moving_var|running_mean|running_var|parameters|alpha)$/i;

/**
 * Whether a variable is an input of the network (data or label) rather than a parameter:
 * named in the shapes given, a label, or read only at `data`-like slots under a name that does
 * not look like a parameter's.
 */
function isInputVariable(name: string, slots: readonly string[], given: Record<string, unknown>): boolean {
  if (PARAM_SUFFIX.test(name)) return false;
  if (name in given || /label$/i.test(name)) return true;
  return slots.length > 0 && slots.every((s) => s === "data" || s === "label" || s === "lhs" || s === "rhs");
}

/** Summarizes `net` with the input shapes given (partial shapes allowed: unknowns stay undefined). */
export function summarize(net: Symbol, shapes: Record<string, readonly number[]> = {}): NetworkSummary {
  const graph = net.graph();
  const internals = net.getInternals();
  const names = internals.listOutputs();
  let outShapes: number[][] = [];
  let complete = false;
  try {
    outShapes = internals.inferShape(shapes)[1];
    complete = true;
  } catch {
    try {
      outShapes = internals.inferShapePartial(shapes)[1];
    } catch {
      outShapes = [];
    }
  }
  const known = (s: number[] | undefined): number[] | undefined => (s && s.length > 0 && s.every((d) => d > 0) ? s : s && s.length === 0 && complete ? s : undefined);
  const shapeOf = new Map<string, number[] | undefined>(names.map((n, i) => [n, known(outShapes[i])]));
  const aux = new Set(net.listAuxiliaryStates());

  // Which slots read each variable, to tell inputs from parameters.
  const slots = new Map<Node, string[]>();
  for (const n of graph.nodes) {
    if (n.isVariable) continue;
    const inNames = n.inputNames;
    n.inputs.forEach((e, i) => {
      if (e.node.isVariable) slots.set(e.node, [...(slots.get(e.node) ?? []), inNames[i] ?? "data"]);
    });
  }
  const inputs: InputVariable[] = [];
  const inputNodes = new Set<Node>();
  for (const n of graph.nodes) {
    if (!n.isVariable || aux.has(n.name)) continue;
    const s = slots.get(n) ?? [];
    if (s.length === 0 || isInputVariable(n.name, s, shapes)) {
      inputs.push({ name: n.name, shape: shapeOf.get(n.name), node: n, label: s.length > 0 && (s.every((x) => x === "label") || /label$/i.test(n.name)) });
      inputNodes.add(n);
    }
  }

  const owner = new Map<Node, string>();
  const shared = new Set<string>();
  const layers: Layer[] = [];
  for (const n of graph.nodes) {
    if (n.isVariable || !n.op) continue;
    const inNames = n.inputNames;
    const layer: Layer = {
      name: n.name,
      op: n.op.name,
      node: n,
      description: describeOp(n),
      outputShapes: Array.from({ length: n.numVisibleOutputs }, (_, i) => shapeOf.get(n.outputName(i))),
      inputs: [],
      params: [],
      paramCount: 0,
      auxCount: 0,
    };
    n.inputs.forEach((e, i) => {
      const role = inNames[i] ?? `input${i}`;
      if (!e.node.isVariable) {
        layer.inputs.push({ name: e.node.name, index: e.index, shape: shapeOf.get(e.node.outputName(e.index)), role });
        return;
      }
      if (inputNodes.has(e.node)) {
        layer.inputs.push({ name: e.node.name, index: 0, shape: shapeOf.get(e.node.name), role });
        return;
      }
      const shape = shapeOf.get(e.node.name);
      const kind = aux.has(e.node.name) ? "aux" : "arg";
      const first = owner.get(e.node);
      const p: LayerParam = { name: e.node.name, role, shape, size: shape ? shapeSize(shape) : 0, kind };
      if (first !== undefined) {
        p.sharedWith = first;
        shared.add(e.node.name);
      } else {
        owner.set(e.node, n.name);
        if (kind === "arg") layer.paramCount += p.size;
        else layer.auxCount += p.size;
      }
      layer.params.push(p);
    });
    layers.push(layer);
  }
  const trainableParams = layers.reduce((a, l) => a + l.paramCount, 0);
  const auxParams = layers.reduce((a, l) => a + l.auxCount, 0);
  const outNames = net.listOutputs();
  return {
    inputs,
    layers,
    outputs: outNames.map((name) => ({ name, shape: shapeOf.get(name) })),
    trainableParams,
    auxParams,
    totalParams: trainableParams + auxParams,
    shared: [...shared],
    complete,
  };
}

const tuple = (v: unknown): number[] => (Array.isArray(v) ? (v as number[]) : typeof v === "number" ? [v] : []);
const dims = (v: unknown): string => tuple(v).join("×");
const allOnes = (v: unknown): boolean => tuple(v).every((d) => d === 1);
const allZeros = (v: unknown): boolean => tuple(v).every((d) => d === 0);
/** `2` for (2, 2), `1,2` otherwise. */
const short = (v: unknown): string => {
  const t = tuple(v);
  return t.length > 0 && t.every((d) => d === t[0]) ? String(t[0]) : t.join(",");
};

/** The op's key parameters in a few words (`3×3 /2 pad 1, 64 filters`); other ops list the params that differ from their defaults. */
export function describeOp(n: Node): string {
  const p = n.params as Record<string, unknown>;
  const op = n.op as OpDef;
  switch (op.name) {
    case "Convolution":
    case "Deconvolution": {
      const parts = [dims(p.kernel)];
      if (!allOnes(p.stride) && tuple(p.stride).length) parts.push(`/${short(p.stride)}`);
      if (!allZeros(p.pad) && tuple(p.pad).length) parts.push(`pad ${short(p.pad)}`);
      if (!allOnes(p.dilate) && tuple(p.dilate).length) parts.push(`dilate ${short(p.dilate)}`);
      let s = `${parts.join(" ")}, ${p.num_filter} filters`;
      if (typeof p.num_group === "number" && p.num_group > 1) s += `, ${p.num_group} groups`;
      if (p.no_bias === true) s += ", no bias";
      return s;
    }
    case "Pooling": {
      if (p.global_pool === true) return `global ${p.pool_type}`;
      const parts = [String(p.pool_type), dims(p.kernel)];
      if (!allOnes(p.stride) && tuple(p.stride).length) parts.push(`/${short(p.stride)}`);
      if (!allZeros(p.pad) && tuple(p.pad).length) parts.push(`pad ${short(p.pad)}`);
      return parts.join(" ");
    }
    case "FullyConnected":
      return `${p.num_hidden} units${p.no_bias === true ? ", no bias" : ""}`;
    case "Activation":
    case "LeakyReLU":
      return String(p.act_type);
    case "BatchNorm":
      return [p.fix_gamma === true ? "fix_gamma" : "", p.use_global_stats === true ? "global stats" : ""].filter(Boolean).join(", ");
    default:
      return nonDefaultParams(n);
  }
}

/** `axis=1 p=0.5`: the params set to something other than the op's default. */
export function nonDefaultParams(n: Node, maxLength = 48): string {
  const op = n.op;
  if (!op) return "";
  const parts: string[] = [];
  for (const [k, spec] of Object.entries(op.params)) {
    if (!(k in n.attrs) || k === "workspace" || k.startsWith("cudnn")) continue;
    const v = (n.params as Record<string, unknown>)[k];
    if (v === null || v === undefined) continue;
    let text: string;
    try {
      text = spec.print(v as never);
      if (spec.default !== null && spec.default !== undefined && spec.print(spec.default as never) === text) continue;
    } catch {
      continue;
    }
    parts.push(`${k}=${text}`);
  }
  const s = parts.join(" ");
  return s.length > maxLength ? `${s.slice(0, maxLength - 1)}…` : s;
}
