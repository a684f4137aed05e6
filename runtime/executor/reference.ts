/**
 * The reference executor: interprets the forward and backward graph node by node in float64
 * with each op row's reference implementation. The oracle for every other device.
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { BindArgs, Executor, SimpleBindArgs } from "../../compiler/symbol/binding.js";
import { registerBinder } from "../../compiler/symbol/binding.js";
import { Node } from "../../compiler/ir/node.js";
import { Shape, shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import { KilnError } from "../../compiler/base/errors.js";
import { inferShapes } from "../../compiler/passes/infer_shape.js";
import { Tensor } from "../../compiler/ops/tensor.js";
import { RefCtx } from "../../compiler/ops/registry.js";
import { NDArray } from "../ndarray.js";
import { Context } from "../context.js";
import { BoundArrays, checkBindArrays, allocateForSimpleBind } from "./bind_plan.js";
import { BoundExecutor } from "./bound_executor.js";
import { SeededRandom } from "./seeded_random.js";

export class ReferenceExecutor extends BoundExecutor {
  readonly outputs: NDArray[];
  private readonly entryShapes: (Shape | undefined)[];
  private readonly varArray = new Map<Node, NDArray>();
  /** Values of the last forward pass, kept for backward. */
  private values: (Tensor | undefined)[] | undefined;
  /** Values of the last backward pass (forward values included). */
  private backwardValues: (Tensor | undefined)[] | undefined;
  private trained = false;
  private readonly rng: SeededRandom;

  constructor(symbol: Symbol, ctx: Context, arrays: BoundArrays, seed = 0) {
    super(symbol, ctx, arrays);
    this.rng = new SeededRandom(seed);
    const g = this.plan.graph;
    const known = new Map<string, Shape>();
    const byName = new Map<string, NDArray>();
    this.plan.argNames.forEach((n, i) => byName.set(n, arrays.args[i]));
    this.plan.auxNames.forEach((n, i) => byName.set(n, arrays.aux[i]));
    for (const id of g.variableIds) {
      const node = g.nodes[id];
      const a = byName.get(node.name);
      if (a) {
        this.varArray.set(node, a);
        known.set(node.name, a.shape);
      }
    }
    const fwdShapes = inferShapes(this.plan.forwardGraph, known);
    symbol.outputs.forEach((e, i) => {
      const h = this.plan.headGradNodes[i];
      const s = fwdShapes[this.plan.forwardGraph.entryId(e)];
      if (h && s) known.set(h.name, s);
    });
    this.entryShapes = inferShapes(g, known);
    const types = Object.fromEntries([...byName].map(([n, a]) => [n, a.dtype]));
    const [, outTypes] = symbol.inferTypePartial(types);
    this.outputs = symbol.outputs.map((e, i) => {
      const s = this.entryShapes[g.entryId(e)];
      if (!s) throw new KilnError(`cannot infer the shape of output ${e.node.outputName(e.index)}`);
      return new NDArray(s, outTypes[i] ?? "float32", ctx);
    });
  }

  forward(isTrain = false, feeds: Record<string, NDArray | ArrayLike<number>> = {}): NDArray[] {
    this.feed(feeds);
    const g = this.plan.forwardGraph;
    const values = new Array<Tensor | undefined>(this.plan.graph.numEntries);
    const auxWrites: [NDArray, Tensor][] = [];
    this.run(g, values, isTrain, auxWrites);
    for (const [arr, t] of auxWrites) arr.set(t.data);
    this.symbol.outputs.forEach((e, i) => this.outputs[i].set(values[this.plan.graph.entryId(e)]!.data));
    this.values = values;
    this.backwardValues = undefined;
    this.trained = isTrain;
    return this.outputs;
  }

  backward(outGrads?: NDArray | NDArray[]): void {
    if (!this.values || !this.trained) throw new KilnError("backward needs a forward(isTrain=true) pass first");
    const heads = outGrads === undefined ? [] : Array.isArray(outGrads) ? outGrads : [outGrads];
    const g = this.plan.graph;
    const values = this.values.slice();
    this.plan.headGradNodes.forEach((h, i) => {
      // Loss outputs, and outputs whose gradient nothing uses (BlockGrad), need no head gradient.
      if (!h || (!g.hasNode(h) && heads[i] === undefined)) return;
      const given = heads[i];
      const want = this.outputs[i].shape;
      if (!given)
        throw new KilnError(`backward: output ${this.plan.outputNames[i]} is not a loss, so it needs a head gradient of shape ${shapeToString(want)}`);
      if (!shapesEqual(given.shape, want))
        throw new KilnError(`backward: head gradient ${i} has shape ${shapeToString(given.shape)}, output ${this.plan.outputNames[i]} has ${shapeToString(want)}`);
      if (g.hasNode(h)) values[g.entryId(h.entry(0))] = new Tensor(want, given.toFloat64());
    });
    this.run(g, values, true, []);
    this.backwardValues = values;
    this.plan.gradEntries.forEach((e, i) => {
      const dst = this.arrays.grads[i];
      if (!e || !dst) return;
      const t = values[g.entryId(e)]!;
      if (this.arrays.gradReqs[i] === "add") {
        const cur = dst.toFloat64();
        for (let k = 0; k < cur.length; k++) cur[k] += t.data[k];
        dst.set(cur);
      } else dst.set(t.data);
    });
  }

  /**
   * Every op node evaluated by the last forward (and backward, if it ran since) with its input
   * and output values: what tests use to check other implementations of each op node by node.
   * @internal
   */
  trace(): { node: Node; inputs: Tensor[]; outputs: Tensor[] }[] {
    const values = this.backwardValues ?? this.values;
    if (!values) return [];
    const g = this.plan.graph;
    const out: { node: Node; inputs: Tensor[]; outputs: Tensor[] }[] = [];
    g.nodes.forEach((node, nid) => {
      if (node.isVariable) return;
      const outs = g.outputEntryIds(nid).map((e) => values[e]);
      const ins = node.inputs.map((e) => values[g.entryId(e)]);
      if (outs.every((t) => t !== undefined) && ins.every((t) => t !== undefined)) out.push({ node, inputs: ins as Tensor[], outputs: outs as Tensor[] });
    });
    return out;
  }

  /** Evaluates every node of `graph` whose outputs are not yet in `values`. */
  private run(graph: typeof this.plan.graph, values: (Tensor | undefined)[], isTrain: boolean, auxWrites: [NDArray, Tensor][]): void {
    const full = this.plan.graph;
    for (const node of graph.nodes) {
      const base = full.entryId(node.entry(0));
      if (values[base] !== undefined) continue;
      if (node.isVariable) {
        const arr = this.varArray.get(node);
        if (!arr) throw new KilnError(`no value bound for variable ${node.name}`);
        values[base] = new Tensor(arr.shape, arr.toFloat64());
        continue;
      }
      const inputs = node.inputs.map((e) => values[full.entryId(e)]!);
      const ctx: RefCtx = {
        isTrain,
        nodeName: node.name,
        outputShape: (i) => {
          const s = this.entryShapes[base + i];
          if (!s) throw new KilnError(`the shape of ${node.outputName(i)} is unknown`);
          return s;
        },
        random: () => this.rng.next(),
        writeAux: (i, t) => {
          const src = node.inputs[i].node;
          const arr = this.varArray.get(src);
          if (arr && isTrain) auxWrites.push([arr, t]);
        },
      };
      let outs: Tensor[];
      try {
        outs = node.op!.forward(node.params as never, inputs, ctx);
      } catch (e) {
        throw new KilnError(`reference: operator ${node.name} (${node.op!.name}) failed: ${(e as Error).message}`);
      }
      if (outs.length !== node.numOutputs)
        throw new Error(`reference: ${node.op!.name} returned ${outs.length} outputs, its row declares ${node.numOutputs}`);
      outs.forEach((t, i) => {
        const want = this.entryShapes[base + i];
        if (want && !shapesEqual(want, t.shape))
          throw new Error(`reference: ${node.name} (${node.op!.name}) output ${i} has shape ${shapeToString(t.shape)}, inference said ${shapeToString(want)}`);
        values[base + i] = t;
      });
    }
  }

  reshape(shapes: Record<string, readonly number[]>): Executor {
    return new ReferenceExecutor(this.symbol, this.ctx, this.reshapedArrays(shapes));
  }
}

registerBinder("reference", {
  simpleBind(symbol: Symbol, args: SimpleBindArgs): Executor {
    return new ReferenceExecutor(symbol, args.ctx, allocateForSimpleBind(symbol, args, args.ctx));
  },
  bind(symbol: Symbol, args: BindArgs): Executor {
    return new ReferenceExecutor(symbol, args.ctx, checkBindArrays(symbol, args));
  },
});
