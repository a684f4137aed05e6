/**
 * The picture's model: layers as nodes (parameters folded into their layer's label, or drawn
 * as small nodes of their own), tensors as edges labelled with their shapes, and clusters —
 * stages and units found in the node names, or the fused kernels of a compiled program.
 */
import type { Symbol } from "../../index.js";
import { compactShape, formatCount, formatShape } from "../format.js";
import { summarize } from "../layers.js";
import type { Layer, NetworkSummary } from "../layers.js";

export type NodeKind = "op" | "input" | "param";

export interface VizNode {
  id: string;
  name: string;
  kind: NodeKind;
  /** Operator name ("" for variables). */
  op: string;
  /** Colour class: conv, fc, norm, act, pool, loss, merge, shape, other, input, param. */
  category: string;
  /** Label lines: the name, the op and its key params, folded params, output shape of heads. */
  lines: string[];
  /** Everything the HTML view shows on hover. */
  details: Record<string, string>;
  /** Innermost cluster id. */
  cluster?: string;
}

export interface VizEdge {
  from: string;
  to: string;
  /** Which output of `from`. */
  index: number;
  /** The tensor's shape (`64×56×56`), or "" when unknown. */
  label: string;
  param?: boolean;
}

export interface VizCluster {
  id: string;
  label: string;
  parent?: string;
  kind: "stage" | "kernel";
  /** Hover text. */
  title: string;
}

export interface VizGraph {
  title: string;
  nodes: VizNode[];
  edges: VizEdge[];
  clusters: VizCluster[];
}

export interface VizOptions {
  title: string;
  shapes: Record<string, readonly number[]>;
  /** Draw parameters as nodes of their own instead of folding them into the layer. */
  showParams?: boolean;
  /** "auto" (stage/unit/block… tokens in the names), "none", or a regular expression (capture groups nest). */
  clusters?: string;
  /** Fused kernels: original node name → kernel cluster, when --fused. */
  kernels?: { id: string; label: string; title: string; members: string[] }[];
}

const CATEGORY: [RegExp, string][] = [
  [/^(Convolution|Deconvolution|Convolution_v1)$/, "conv"],
  [/^(FullyConnected|dot|batch_dot|linalg_gemm2?|Embedding|RNN)$/, "fc"],
  [/^(BatchNorm|BatchNorm_v1|LayerNorm|InstanceNorm|GroupNorm|LRN|L2Normalization)$/, "norm"],
  [/^(Activation|LeakyReLU|relu|sigmoid|tanh|softrelu|softsign|gelu|softmax|log_softmax|SoftmaxActivation|Dropout)$/, "act"],
  [/^(Pooling|Pooling_v1|ROIPooling|UpSampling)$/, "pool"],
  [/(Output|^MakeLoss|^make_loss|^softmax_cross_entropy|^CTCLoss|^IdentityAttachKLSparseReg)$/, "loss"],
  [/^(elemwise_|broadcast_|_Plus|_plus|_Minus|_minus|_Mul|_mul|_Div|_div|add_n|ElementWiseSum|Concat|concat|stack|where)/, "merge"],
  [/^(Flatten|flatten|Reshape|reshape|transpose|SwapAxis|swapaxes|slice|SliceChannel|split|expand_dims|squeeze|Crop|Pad|pad|Cast|cast|BlockGrad|stop_gradient|identity|_copy)/, "shape"],
];

function category(op: string): string {
  for (const [re, c] of CATEGORY) if (re.test(op)) return c;
  return "other";
}

/** Default cluster tokens: stage1, unit2, block3, layer4, fire5, res2a, 3b … (never a name's last token). */
const STAGE_TOKEN = /^(?:(?:stage|unit|block|layer|fire|inception|mixed|res|group|cell|level|module|bottleneck|features?)\d+[a-z]?|\d+[a-z])$/i;

/** Cluster path of a node name: ["stage1", "stage1_unit2"], or [] when none. */
export function clusterPath(name: string, mode: string): string[] {
  if (mode === "none") return [];
  if (mode === "auto") {
    const tokens = name.split(/[_/.]/);
    const keys: string[] = [];
    for (const t of tokens.slice(0, -1)) if (STAGE_TOKEN.test(t)) keys.push(keys.length ? `${keys[keys.length - 1]}_${t}` : t);
    return keys.slice(0, 2);
  }
  const m = new RegExp(mode).exec(name);
  if (!m) return [];
  if (m.length === 1) return [m[0]];
  const keys: string[] = [];
  for (const g of m.slice(1)) if (g !== undefined) keys.push(keys.length ? `${keys[keys.length - 1]}_${g}` : g);
  return keys;
}

/** Parameters grouped by shape: `weight 64×3×7×7`, `gamma, beta, moving_mean, moving_var 64`. */
function foldedParams(l: Layer): string {
  const groups = new Map<string, string[]>();
  for (const p of l.params) {
    const key = compactShape(p.shape) || "?";
    groups.set(key, [...(groups.get(key) ?? []), p.sharedWith ? `${p.role}*` : p.role]);
  }
  return [...groups].map(([shape, roles]) => `${roles.join(", ")} ${shape}`).join(" · ");
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function buildVizGraph(net: Symbol, opts: VizOptions): { graph: VizGraph; summary: NetworkSummary } {
  const s = summarize(net, opts.shapes);
  const nodes: VizNode[] = [];
  const edges: VizEdge[] = [];
  const heads = new Map(net.listOutputs().map((n, i) => [n, s.outputs[i]]));
  const headOf = (l: Layer): string[] =>
    l.outputShapes.flatMap((shape, i) => {
      const name = l.node.outputName(i);
      return heads.has(name) ? [`output ${compactShape(shape) || "?"}`] : [];
    });

  for (const i of s.inputs)
    nodes.push({
      id: i.name,
      name: i.name,
      kind: "input",
      op: "",
      category: "input",
      lines: [i.name, i.shape ? compactShape(i.shape) : i.label ? "label" : "input"],
      details: { name: i.name, kind: i.label ? "label" : "input", shape: formatShape(i.shape) },
    });

  const paramNodes = new Set<string>();
  for (const l of s.layers) {
    const params = foldedParams(l);
    const lines = [l.name, clip(l.description ? `${l.op} ${l.description}` : l.op, 56)];
    if (params && !opts.showParams) lines.push(clip(params, 48));
    lines.push(...headOf(l));
    const attrs = Object.entries(l.node.attrs)
      .filter(([k]) => !k.startsWith("__"))
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    nodes.push({
      id: l.name,
      name: l.name,
      kind: "op",
      op: l.op,
      category: category(l.op),
      lines,
      details: {
        name: l.name,
        op: l.op,
        ...(attrs ? { attrs } : {}),
        inputs: l.inputs.map((i) => `${i.index ? `${i.name}[${i.index}]` : i.name} ${compactShape(i.shape) || "?"}`).join(", ") || "-",
        outputs: l.outputShapes.map((x) => formatShape(x)).join(" "),
        ...(l.params.length
          ? { params: l.params.map((p) => `${p.name} ${formatShape(p.shape)}${p.kind === "aux" ? " (aux)" : ""}${p.sharedWith ? ` (shared with ${p.sharedWith})` : ""}`).join(", ") }
          : {}),
        "param count": `${formatCount(l.paramCount)}${l.auxCount ? ` + ${formatCount(l.auxCount)} aux` : ""}`,
      },
    });
    for (const i of l.inputs) edges.push({ from: i.name, to: l.name, index: i.index, label: compactShape(i.shape) });
    if (opts.showParams)
      for (const p of l.params) {
        if (!paramNodes.has(p.name)) {
          paramNodes.add(p.name);
          nodes.push({
            id: p.name,
            name: p.name,
            kind: "param",
            op: "",
            category: "param",
            lines: [p.name, compactShape(p.shape) || "?"],
            details: { name: p.name, kind: p.kind === "aux" ? "aux state" : "parameter", shape: formatShape(p.shape) },
          });
        }
        edges.push({ from: p.name, to: l.name, index: 0, label: compactShape(p.shape), param: true });
      }
  }

  const clusters: VizCluster[] = [];
  if (opts.kernels) {
    const byName = new Map(nodes.map((n) => [n.name, n]));
    for (const k of opts.kernels) {
      const members = k.members.filter((m) => byName.has(m));
      if (members.length === 0) continue;
      clusters.push({ id: k.id, label: k.label, kind: "kernel", title: k.title });
      for (const m of members) {
        const n = byName.get(m)!;
        n.cluster = k.id;
        n.details.kernel = k.title;
      }
    }
  } else {
    const mode = opts.clusters ?? "auto";
    const ops = nodes.filter((n) => n.kind === "op");
    const paths = new Map(ops.map((n) => [n.id, clusterPath(n.name, mode)]));
    const count = new Map<string, number>();
    for (const p of paths.values()) for (const k of p) count.set(k, (count.get(k) ?? 0) + 1);
    // A cluster of one node, or of every node, says nothing.
    const keep = (k: string): boolean => (count.get(k) ?? 0) >= 2 && (count.get(k) ?? 0) < ops.length;
    const made = new Set<string>();
    for (const n of ops) {
      const p = (paths.get(n.id) ?? []).filter(keep);
      p.forEach((k, d) => {
        if (made.has(k)) return;
        made.add(k);
        clusters.push({ id: k, label: k, kind: "stage", title: `${k}: ${count.get(k)} layers`, ...(d > 0 ? { parent: p[d - 1] } : {}) });
      });
      if (p.length) n.cluster = p[p.length - 1];
    }
    // A merge without a stage in its name (ResNet's _plus3) closes the block of its first input.
    if (mode === "auto") {
      const byId = new Map(nodes.map((n) => [n.id, n]));
      for (const n of ops)
        if (n.cluster === undefined && n.category === "merge") {
          const first = edges.find((e) => e.to === n.id && byId.get(e.from)?.kind === "op");
          if (first) n.cluster = byId.get(first.from)?.cluster;
        }
    }
  }
  // Parameter nodes stay outside the frames: they sit a rank above their layer, and a frame
  // stretched up to them would take in whatever else is on that rank.
  return { graph: { title: opts.title, nodes, edges, clusters }, summary: s };
}

/** Original node names computed by each fused kernel (forward phase), from compileSymbol's kernel list. */
export function kernelClusters(
  kernels: readonly { name: string; phase: string; ops: readonly string[]; nodes: readonly string[]; output: string }[],
  layerNames: readonly string[],
  opOf: (name: string) => string,
): { id: string; label: string; title: string; members: string[] }[] {
  const names = new Set(layerNames);
  // Decomposed nodes are named <original>_<suffix>: map each back to the longest original name it extends.
  const original = (n: string): string | undefined => {
    if (names.has(n)) return n;
    let best: string | undefined;
    for (let i = n.lastIndexOf("_"); i > 0; i = n.lastIndexOf("_", i - 1)) {
      const p = n.slice(0, i);
      if (names.has(p)) {
        best = p;
        break;
      }
    }
    return best;
  };
  const owner = new Map<string, number>();
  const fwd = kernels.map((k, i) => ({ k, i })).filter(({ k }) => k.phase === "forward");
  // First the kernel whose output is the node's own, then the first kernel that computes it.
  for (const { k, i } of fwd) {
    const out = original(k.output.replace(/_output\d*$/, ""));
    if (out !== undefined && !owner.has(out)) owner.set(out, i);
  }
  for (const { k, i } of fwd) for (const n of k.nodes) {
    const o = original(n);
    if (o !== undefined && !owner.has(o)) owner.set(o, i);
  }
  return fwd.flatMap(({ k, i }) => {
    const members = layerNames.filter((n) => owner.get(n) === i);
    if (members.length === 0) return [];
    const ops = [...new Set(members.map(opOf))];
    return [{ id: `kernel${i}`, label: `kernel ${i}: ${clip(ops.join(" + "), 60)}`, title: `kernel ${i} ${k.name}: ${k.ops.join(", ")}`, members }];
  });
}
