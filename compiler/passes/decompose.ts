/**
 * The decompose pass: rewrites every op node whose row has a `decompose` rule (BatchNorm,
 * Dropout in training, SoftmaxOutput, …) into the simpler ops it returns, repeatedly, until
 * every remaining op node is one the row keeps (and lowers through `compute`). Pure: builds
 * new nodes, never touches the input graph's.
 */
import { Graph } from "../ir/graph.js";
import { Node, NodeEntry } from "../ir/node.js";
import { DecomposeCtx, ShapeCtx, TypeCtx, getOp } from "../ops/registry.js";
import { Shape, isShapeKnown, shapeToString } from "../base/shape.js";
import { DType, DTYPE_FLAG } from "../base/dtype.js";
import { GraphError, KilnError } from "../base/errors.js";
import { printUserParams } from "../ops/params.js";
import { printShapeAttr } from "../symbol/hidden_attrs.js";

/** The name of the variable holding the executor's random seed (one int64, advanced every forward). */
export const RANDOM_SEED_NAME = "__random_seed__";

export interface DecomposeOptions {
  /** Compile for training: rows pick batch statistics, random masks, and record aux writes. */
  isTrain: boolean;
}

/** An aux state (a mutable variable) that takes the value of `entry` after a training forward pass. */
export interface AuxWrite {
  readonly variable: Node;
  readonly entry: NodeEntry;
  /** The node of the input graph whose rule asked for the write. */
  readonly from: Node;
}

export interface DecomposeResult {
  /** The rewritten graph: the input graph's outputs (mapped), then every aux write's entry. */
  readonly graph: Graph;
  /** The entry of the new graph that holds what `old` (an entry of the input graph) held. */
  map(old: NodeEntry): NodeEntry;
  readonly auxWrites: readonly AuxWrite[];
  /** For every op node of the new graph, the node of the input graph it stands for. */
  readonly origin: ReadonlyMap<Node, Node>;
  /** The random-seed variable, when some rule asked for one. */
  readonly seed: Node | undefined;
  /** Shapes and dtypes of every output of every node of the new graph, worked out while rewriting. */
  readonly info: ReadonlyMap<Node, { shapes: Shape[]; dtypes: DType[] }>;
}

/** Rewriting must terminate: a rule that keeps producing its own op is a bug in the row. */
const MAX_DEPTH = 32;

/**
 * Decomposes `graph` given its shape and dtype tables (indexed by entry id, as inferShapes and
 * inferTypes return them).
 */
export function decompose(graph: Graph, shapes: readonly (Shape | undefined)[], dtypes: readonly (DType | undefined)[], opts: DecomposeOptions): DecomposeResult {
  const info = new Map<Node, { shapes: Shape[]; dtypes: DType[] }>();
  graph.nodes.forEach((n, nid) => {
    const ids = graph.outputEntryIds(nid);
    info.set(n, {
      shapes: ids.map((e) => {
        const s = shapes[e];
        if (!isShapeKnown(s)) throw new GraphError(`decompose: the shape of ${n.outputName(e - graph.rowPtr[nid])} is unknown`);
        return s;
      }),
      dtypes: ids.map((e) => dtypes[e] ?? "float32"),
    });
  });

  const replaced = new Map<Node, NodeEntry[]>();
  const origin = new Map<Node, Node>();
  const auxWrites: AuxWrite[] = [];
  const usedNames = new Set(graph.nodes.map((n) => n.name));
  let seed: Node | undefined;

  const mapEntry = (e: NodeEntry): NodeEntry => {
    const r = replaced.get(e.node);
    if (!r) throw new Error(`decompose: ${e.node.name} visited before its consumers' inputs were ready`);
    return r[e.index];
  };

  const freshName = (base: string): string => {
    let name = base;
    for (let k = 1; usedNames.has(name); k++) name = `${base}${k}`;
    usedNames.add(name);
    return name;
  };

  /** Output shapes and types of a new node from its inputs alone (forward inference). */
  const inferNew = (node: Node, where: Node): void => {
    const ins = node.inputs.map((e) => info.get(e.node)!);
    const inShapes: (Shape | undefined)[] = node.inputs.map((e, i) => ins[i].shapes[e.index]);
    const inTypes: (DType | undefined)[] = node.inputs.map((e, i) => ins[i].dtypes[e.index]);
    const outShapes: (Shape | undefined)[] = new Array(node.numOutputs).fill(undefined);
    const outTypes: (DType | undefined)[] = new Array(node.numOutputs).fill(undefined);
    const op = node.op!;
    try {
      op.inferShape(new ShapeCtx(inShapes, outShapes, node.inputNames), node.params as never);
      const tctx = new TypeCtx(inTypes, outTypes, node.inputNames);
      if (op.inferType) op.inferType(tctx, node.params as never);
      else tctx.sameType();
    } catch (err) {
      throw new KilnError(`decompose of ${where.name} (${where.op!.name}): node ${node.name} (${op.name}) on inputs ${inShapes.map(shapeToString).join(", ")}: ${(err as Error).message}`);
    }
    outShapes.forEach((s, i) => {
      if (!isShapeKnown(s)) throw new KilnError(`decompose of ${where.name} (${where.op!.name}): cannot infer output ${i} of ${node.name} (${op.name}) from its inputs`);
    });
    info.set(node, { shapes: outShapes as Shape[], dtypes: outTypes.map((t) => t ?? "float32") });
  };

  const seedEntry = (): NodeEntry => {
    seed ??= new Node(null, RANDOM_SEED_NAME, { __shape__: printShapeAttr([1]), __dtype__: String(DTYPE_FLAG.int64) }, []);
    if (!info.has(seed)) info.set(seed, { shapes: [[1]], dtypes: ["int64"] });
    return seed.entry(0);
  };

  /**
   * Lowers one node whose inputs are already entries of the new graph: its rule's entries, or
   * the node itself. `orig` is the input graph's node it stands for.
   */
  const rewrite = (node: Node, orig: Node, depth: number): NodeEntry[] => {
    const op = node.op!;
    const keep = (): NodeEntry[] => {
      origin.set(node, orig);
      return Array.from({ length: node.numOutputs }, (_, i) => node.entry(i));
    };
    if (!op.decompose) return keep();
    if (depth > MAX_DEPTH) throw new KilnError(`decompose of ${orig.name} (${orig.op!.name}) does not terminate (at ${node.name}, ${op.name})`);
    const own = info.get(node)!;
    const d: DecomposeCtx = {
      node,
      isTrain: opts.isTrain,
      writeAux(inputIndex, entry) {
        const target = orig.inputs[inputIndex]?.node;
        if (!target || !target.isVariable || !orig.mutableInputs.includes(inputIndex))
          throw new KilnError(`decompose of ${orig.name} (${orig.op!.name}): input ${inputIndex} is not a mutable aux state`);
        auxWrites.push({ variable: target, entry, from: orig });
      },
      input: (i) => node.inputs[i],
      inputShape: (i) => info.get(node.inputs[i].node)!.shapes[node.inputs[i].index],
      inputType: (i) => info.get(node.inputs[i].node)!.dtypes[node.inputs[i].index],
      outputShape: (i) => own.shapes[i],
      outputType: (i) => own.dtypes[i],
      op(opName, inputs, params = {}) {
        const sub = getOp(opName, `decompose of ${orig.name}`);
        const countParam = sub.variadic?.countParam;
        const values = countParam ? { [countParam]: inputs.length, ...params } : params;
        const name = freshName(`${node.name}_${opName.replace(/^_+/, "").toLowerCase()}`);
        const created = new Node(sub, name, printUserParams(sub.params, values, `operator ${name} (${opName})`), inputs);
        inferNew(created, orig);
        return rewrite(created, orig, depth + 1);
      },
      op1: (opName, inputs, params) => d.op(opName, inputs, params)[0],
      randomSeed: seedEntry,
    };
    let out: NodeEntry[] | undefined;
    try {
      out = op.decompose(d, node.params as never);
    } catch (err) {
      if (err instanceof KilnError) throw err;
      throw new KilnError(`decompose of ${node.name} (${op.name}) failed: ${(err as Error).message}`);
    }
    if (out === undefined) return keep();
    if (out.length !== node.numOutputs)
      throw new KilnError(`decompose of ${node.name} (${op.name}) returned ${out.length} entries for ${node.numOutputs} outputs`);
    out.forEach((e, i) => {
      const got = info.get(e.node)?.shapes[e.index];
      const want = own.shapes[i];
      if (!got || shapeToString(got) !== shapeToString(want))
        throw new KilnError(`decompose of ${node.name} (${op.name}): output ${i} has shape ${shapeToString(got)}, the node's is ${shapeToString(want)}`);
    });
    return out;
  };

  for (const node of graph.nodes) {
    if (node.isVariable) {
      replaced.set(node, [node.entry(0)]);
      continue;
    }
    const inputs = node.inputs.map(mapEntry);
    const same = inputs.every((e, i) => e.node === node.inputs[i].node && e.index === node.inputs[i].index);
    let current = node;
    if (!same) {
      current = new Node(node.op, node.name, node.attrs, inputs, node.controlDeps.map((c) => mapEntry(c.entry(0)).node));
      info.set(current, info.get(node)!);
    }
    replaced.set(node, rewrite(current, node, 0));
  }

  const outputs = [...graph.outputs.map(mapEntry), ...auxWrites.map((w) => w.entry)];
  const newGraph = new Graph(outputs);
  return { graph: newGraph, map: mapEntry, auxWrites, origin, seed, info };
}
