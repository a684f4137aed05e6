/**
 * What the reference and compiled executors share: the bound arrays and the plan's names, the
 * dictionaries over them, feeding forward's inputs, copying parameters in, and the arrays a
 * reshaped executor gets. Subclasses run the graph.
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { Executor, GradReq } from "../../compiler/symbol/binding.js";
import { shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import { KilnError } from "../../compiler/base/errors.js";
import { NDArray } from "../ndarray.js";
import type { Context } from "../context.js";
import { ExecPlan, BoundArrays, makePlan, allocateForSimpleBind } from "./bind_plan.js";

export abstract class BoundExecutor implements Executor {
  abstract readonly outputs: NDArray[];
  protected readonly plan: ExecPlan;

  constructor(
    readonly symbol: Symbol,
    readonly ctx: Context,
    protected readonly arrays: BoundArrays,
  ) {
    this.plan = makePlan(symbol, arrays.gradReqs);
  }

  abstract forward(isTrain?: boolean, feeds?: Record<string, NDArray | ArrayLike<number>>): NDArray[];
  abstract backward(outGrads?: NDArray | NDArray[]): void;
  abstract reshape(shapes: Record<string, readonly number[]>): Executor;

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

  /** Copies forward's `feeds` into the named argument arrays. */
  protected feed(feeds: Record<string, NDArray | ArrayLike<number>>): void {
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
  }

  /** Arrays for the same graph at new input shapes, sharing every parameter, gradient and aux array. */
  protected reshapedArrays(shapes: Record<string, readonly number[]>): BoundArrays {
    const share = new Map<string, NDArray>();
    this.plan.argNames.forEach((n, i) => {
      if (!(n in shapes)) {
        share.set(n, this.arrays.args[i]);
        if (this.arrays.grads[i]) share.set(`grad:${n}`, this.arrays.grads[i]!);
      }
    });
    this.plan.auxNames.forEach((n, i) => share.set(n, this.arrays.aux[i]));
    const gradReq = Object.fromEntries(this.plan.argNames.map((n, i) => [n, this.arrays.gradReqs[i]]));
    const typeDict = Object.fromEntries(this.plan.argNames.map((n, i) => [n, this.arrays.args[i].dtype]));
    const arrays = allocateForSimpleBind(this.symbol, { ctx: this.ctx, shapes, gradReq, typeDict }, this.ctx, share);
    arrays.args.forEach((a, i) => {
      const n = this.plan.argNames[i];
      if (!(n in shapes) && a !== share.get(n))
        throw new KilnError(`reshape: parameter ${n} would change shape from ${shapeToString(share.get(n)!.shape)} to ${shapeToString(a.shape)}`);
    });
    return arrays;
  }

  copyParamsFrom(argParams: Record<string, NDArray>, auxParams: Record<string, NDArray> = {}, allowExtra = false): void {
    const copy = (names: string[], arrays: NDArray[], params: Record<string, NDArray>, what: string): void => {
      // Check everything before copying anything, so a bad name leaves the executor as it was.
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
