/**
 * The reference executor: interprets the forward and backward graph node by node in float64
 * with each op row's reference implementation. The oracle for every other device.
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { BindArgs, Executor, GradReq, SimpleBindArgs } from "../../compiler/symbol/binding.js";
import { registerBinder } from "../../compiler/symbol/binding.js";
import { Node } from "../../compiler/ir/node.js";
import { Shape, shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import { KilnError } from "../../compiler/base/errors.js";
import { inferShapes } from "../../compiler/passes/infer_shape.js";
import { Tensor } from "../../compiler/ops/tensor.js";
import { RefCtx } from "../../compiler/ops/registry.js";
import { NDArray } from "../ndarray.js";
import { Context } from "../context.js";
import { ExecPlan, BoundArrays, makePlan, checkBindArrays, allocateForSimpleBind } from "./bind_plan.js";
import { SeededRandom } from "./seeded_random.js";

export class ReferenceExecutor implements Executor {
  readonly outputs: NDArray[];
  private readonly plan: ExecPlan;
  private readonly entryShapes: (Shape | undefined)[];
  private readonly varArray = new Map<Node, NDArray>();
  /** Values of the last forward pass, kept for backward. */
  private values: (Tensor | undefined)[] | undefined;
  /** Values of the last backward pass (forward values included). */
  private backwardValues: (Tensor | undefined)[] | undefined;
  private trained = false;
  private readonly rng: SeededRandom;

  constructor(
    readonly symbol: Symbol,
    readonly ctx: Context,
    private readonly arrays: BoundArrays,
    seed = 0,
  ) {
    this.rng = new SeededRandom(seed);
    this.plan = makePlan(symbol, arrays.gradReqs);
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

  get argArrays(): NDArray[] {
    return [...this.arrays.args];
  }
  get gradArrays(): (NDArray | null)[] {
    return [...this.arrays.grads];
  }
  get auxArrays(): NDArray[] {
    return [...this.arrays.aux];
  }
  get argDict(): Record<string, NDArray> {
    return Object.fromEntries(this.plan.argNames.map((n, i) => [n, this.arrays.args[i]]));
  }
  get gradDict(): Record<string, NDArray> {
    return Object.fromEntries(this.plan.argNames.flatMap((n, i) => (this.arrays.grads[i] ? [[n, this.arrays.grads[i]!]] : [])));
  }
  get auxDict(): Record<string, NDArray> {
    return Object.fromEntries(this.plan.auxNames.map((n, i) => [n, this.arrays.aux[i]]));
  }
  get outputDict(): Record<string, NDArray> {
    return Object.fromEntries(this.plan.outputNames.map((n, i) => [n, this.outputs[i]]));
  }
  get gradReqs(): GradReq[] {
    return [...this.arrays.gradReqs];
  }

  forward(isTrain = false, feeds: Record<string, NDArray | ArrayLike<number>> = {}): NDArray[] {
    for (const [name, v] of Object.entries(feeds)) {
      const i = this.plan.argNames.indexOf(name);
      if (i < 0) throw new KilnError(`forward: "${name}" is not an argument (arguments: ${this.plan.argNames.join(", ")})`);
      const dst = this.arrays.args[i];
      if (v instanceof NDArray) {
        if (!shapesEqual(v.shape, dst.shape))
          throw new KilnError(`Shape not match! Argument ${name}, need: ${shapeToString(dst.shape)}, received: ${shapeToString(v.shape)}`);
        v.copyTo(dst);
      } else dst.set(v);
    }
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
    const share = new Map<string, NDArray>();
    this.plan.argNames.forEach((n, i) => {
      if (!(n in shapes)) {
        share.set(n, this.arrays.args[i]);
        if (this.arrays.grads[i]) share.set(`grad:${n}`, this.arrays.grads[i]!);
      }
    });
    this.plan.auxNames.forEach((n, i) => share.set(n, this.arrays.aux[i]));
    const gradReq = Object.fromEntries(this.plan.argNames.map((n, i) => [n, this.arrays.gradReqs[i]]));
    const arrays = allocateForSimpleBind(this.symbol, { ctx: this.ctx, shapes, gradReq }, this.ctx, share);
    arrays.args.forEach((a, i) => {
      const n = this.plan.argNames[i];
      if (!(n in shapes) && a !== share.get(n))
        throw new KilnError(`reshape: parameter ${n} would change shape from ${shapeToString(share.get(n)!.shape)} to ${shapeToString(a.shape)}`);
    });
    return new ReferenceExecutor(this.symbol, this.ctx, arrays);
  }

  copyParamsFrom(argParams: Record<string, NDArray>, auxParams: Record<string, NDArray> = {}, allowExtra = false): void {
    const copy = (names: string[], arrays: NDArray[], params: Record<string, NDArray>, what: string): void => {
      for (const [k, v] of Object.entries(params)) {
        const i = names.indexOf(k);
        if (i < 0) {
          if (allowExtra) continue;
          throw new KilnError(`copyParamsFrom: ${what} "${k}" is not in this executor (set allowExtra to skip it)`);
        }
        if (!shapesEqual(v.shape, arrays[i].shape))
          throw new KilnError(`copyParamsFrom: ${k} has shape ${shapeToString(v.shape)}, the executor's is ${shapeToString(arrays[i].shape)}`);
      }
      for (const [k, v] of Object.entries(params)) {
        const i = names.indexOf(k);
        if (i >= 0) v.copyTo(arrays[i]);
      }
    };
    copy(this.plan.argNames, this.arrays.args, argParams, "argument");
    copy(this.plan.auxNames, this.arrays.aux, auxParams, "aux state");
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
