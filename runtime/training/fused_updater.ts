/**
 * The fused updater: one compiled update graph that applies an optimizer's step to a fixed set of
 * parameters in place (see the class comment for what a step costs). Optimizer.createUpdater
 * builds it; optimizer.ts re-exports it.
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import { Variable, Group } from "../../compiler/symbol/sym.js";
import { createOp } from "../../compiler/symbol/compose.js";
import { withNameManager } from "../../compiler/symbol/naming.js";
import type { Executor, BindCompileOptions } from "../../compiler/symbol/binding.js";
import { KilnError } from "../../compiler/base/errors.js";
import type { DType } from "../../compiler/base/dtype.js";
import { shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import { NDArray } from "../ndarray.js";
import { cpu } from "../context.js";
import { saveParams, loadParams } from "../params_file.js";
import type { Optimizer, UpdateParam } from "./optimizer.js";
import "../executor/reference.js";
import "../executor/compiled_binder.js";

export interface FusedUpdaterOptions {
  /** Compile options of the update graph (cpu()/gpu()). */
  compile?: BindCompileOptions;
}

/**
 * Runs an optimizer's steps over a fixed set of parameters with one compiled graph.
 *
 * The graph has one update node per parameter, reading the parameter's weight and gradient
 * arrays and its states, plus two 1-element arrays per dtype (learning rate and rescale).
 * Weights and states are the graph's aux states, so the executor writes their new values
 * back into those very arrays; gradients are its arguments, bound as they are.
 *
 * Cost per step on cpu()/gpu(): one kernel per new weight and per new state (kernels have one
 * output each) computing into the executor's scratch arena and output arrays, then one copy
 * kernel per weight and state into the bound array (the aux-state write-back that BatchNorm's
 * moving statistics use). So (1 + states) × 2 kernels per parameter, e.g. 4 for SGD with
 * momentum, all in one forward segment: on gpu() a single CUDA-graph launch from the second
 * step on; extra memory is one weight-sized output per parameter plus the states' scratch.
 */
export class FusedUpdater {
  /** State arrays by parameter name, in the optimizer's state order. */
  readonly states: Record<string, NDArray[]>;
  /** Steps applied (MXNet's per-index update count; Adam's t). */
  t: number;
  private readonly params: UpdateParam[];
  private readonly hyper = new Map<DType, { lr: NDArray; rescale: NDArray }>();
  private exe: Executor | undefined;
  private builtFor = "";

  constructor(
    readonly optimizer: Optimizer,
    params: UpdateParam[],
    private readonly opts: FusedUpdaterOptions = {},
  ) {
    if (params.length === 0) throw new KilnError("FusedUpdater: no parameters to update");
    const ctx = params[0].weight.ctx;
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw new KilnError(`FusedUpdater: parameter ${p.name} is given twice`);
      seen.add(p.name);
      if (!p.weight.ctx.equals(ctx) || !p.grad.ctx.equals(ctx))
        throw new KilnError(`FusedUpdater: all arrays must be on one context; ${p.name} has weight on ${p.weight.ctx}, gradient on ${p.grad.ctx}, the first weight is on ${ctx}`);
      if (!shapesEqual(p.weight.shape, p.grad.shape) || p.weight.dtype !== p.grad.dtype)
        throw new KilnError(`FusedUpdater: gradient of ${p.name} is ${p.grad.dtype}${shapeToString(p.grad.shape)}, the weight is ${p.weight.dtype}${shapeToString(p.weight.shape)}`);
    }
    this.params = [...params];
    this.t = optimizer.numUpdate;
    this.states = Object.fromEntries(params.map((p) => [p.name, optimizer.stateNames.map(() => new NDArray(p.weight.shape, p.weight.dtype, ctx))]));
    for (const p of params) {
      if (!this.hyper.has(p.weight.dtype))
        this.hyper.set(p.weight.dtype, { lr: new NDArray([1], p.weight.dtype, ctx), rescale: new NDArray([1], p.weight.dtype, ctx) });
    }
  }

  /** Parameter names in update order. */
  get names(): string[] {
    return this.params.map((p) => p.name);
  }

  /** The executor of the update graph (built and compiled on first use). */
  get executor(): Executor {
    return this.ensureExecutor();
  }

  /**
   * One optimizer step for every parameter: weight and states updated in place from the
   * current gradients, with the learning rate of update count t+1.
   */
  update(): void {
    const exe = this.ensureExecutor();
    this.t += 1;
    const opt = this.optimizer;
    opt.numUpdate = Math.max(opt.numUpdate, this.t);
    const lr = opt.stepLr(opt.learningRate, this.t);
    for (const h of this.hyper.values()) {
      h.lr.set([lr]);
      h.rescale.set([opt.rescaleGrad]);
    }
    exe.forward(true);
  }

  /** Every state array by `<param>:<state>`, plus the step count as `__t__` (a float64 array on cpu()). */
  getStates(): Record<string, NDArray> {
    const out: Record<string, NDArray> = {};
    for (const p of this.params) this.optimizer.stateNames.forEach((s, k) => (out[`${p.name}:${s}`] = this.states[p.name][k]));
    out.__t__ = new NDArray([1], "float64", cpu()).set([this.t]);
    return out;
  }

  /** Restores what getStates returned (values are copied); missing states are an error. */
  setStates(states: Record<string, NDArray>): void {
    for (const p of this.params)
      this.optimizer.stateNames.forEach((s, k) => {
        const src = states[`${p.name}:${s}`];
        if (!src) throw new KilnError(`FusedUpdater.setStates: no state "${p.name}:${s}" (the ${this.optimizer.opName} state of ${p.name})`);
        if (!shapesEqual(src.shape, p.weight.shape))
          throw new KilnError(`FusedUpdater.setStates: state ${p.name}:${s} has shape ${shapeToString(src.shape)}, the weight has ${shapeToString(p.weight.shape)}`);
        src.copyTo(this.states[p.name][k]);
      });
    const t = states.__t__;
    if (t) {
      this.t = t.asScalar();
      this.optimizer.numUpdate = Math.max(this.optimizer.numUpdate, this.t);
    }
  }

  /** Writes the states to an MXNet .params file (Kiln's stand-in for MXNet's pickled .states). */
  saveStates(path: string): void {
    const host: Record<string, NDArray> = {};
    for (const [k, v] of Object.entries(this.getStates())) host[k] = v.ctx.deviceType === "cpu" ? v : v.copyTo(cpu());
    saveParams(path, host);
  }

  loadStates(path: string): void {
    const loaded = loadParams(path);
    if (Array.isArray(loaded)) throw new KilnError(`${path}: optimizer states need names, the file has an unnamed list`);
    this.setStates(loaded);
  }

  /** Builds the update graph, or rebuilds it when a compile-time setting (wd, multipliers, clipping, …) changed. */
  private ensureExecutor(): Executor {
    const opt = this.optimizer;
    const key = JSON.stringify([opt.opName, this.params.map((p) => opt.nodeParams(p.name))]);
    if (this.exe && key === this.builtFor) return this.exe;
    const opName = opt.opName;
    const stateNames = opt.stateNames;
    const ctx = this.params[0].weight.ctx;
    const args: Record<string, NDArray> = {};
    const aux: Record<string, NDArray> = {};
    const used = new Set<string>();
    const unique = (n: string): string => {
      if (used.has(n)) throw new KilnError(`FusedUpdater: variable name ${n} is used twice (rename the parameter)`);
      used.add(n);
      return n;
    };
    const hyperVars = new Map<DType, { lr: Symbol; rescale: Symbol }>();
    for (const [dt, h] of this.hyper) {
      const lrName = unique(`__lr_${dt}__`);
      const rsName = unique(`__rescale_${dt}__`);
      args[lrName] = h.lr;
      args[rsName] = h.rescale;
      hyperVars.set(dt, { lr: Variable(lrName), rescale: Variable(rsName) });
    }
    const symbol = withNameManager(() =>
      Group(
        this.params.map((p) => {
          const h = hyperVars.get(p.weight.dtype)!;
          const inputs: Record<string, unknown> = { weight: Variable(unique(p.name)), grad: Variable(unique(`${p.name}_grad`)), lr_array: h.lr, rescale_array: h.rescale };
          aux[p.name] = p.weight;
          args[`${p.name}_grad`] = p.grad;
          stateNames.forEach((s, k) => {
            const v = unique(`${p.name}_${s}`);
            inputs[s] = Variable(v);
            aux[v] = this.states[p.name][k];
          });
          return createOp(opName, { ...inputs, ...opt.nodeParams(p.name), dynamic_lr: true, inplace_weight: true, name: `${p.name}_update` });
        }),
      ),
    );
    (this.exe as { dispose?: () => void } | undefined)?.dispose?.();
    this.exe = symbol.bind({ ctx, args, auxStates: aux, gradReq: "null", compile: this.opts.compile });
    this.builtFor = key;
    return this.exe;
  }
}
