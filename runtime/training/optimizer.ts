/**
 * Optimizers (MXNet's python/mxnet/optimizer/optimizer.py) whose updates run as generated
 * kernels on the parameters' device.
 *
 * An Optimizer holds the hyper-parameters and the per-parameter multipliers (MXNet's rules:
 * `__lr_mult__`/`__wd_mult__` attributes of the symbol, and a weight-decay multiplier of 0 for
 * every parameter whose name ends neither in `_weight` nor in `_gamma`). `createUpdater` builds
 * ONE update graph for a set of parameters, an update op per parameter (compiler/ops/optimizer.ts),
 * binds it to the caller's own weight and gradient arrays (no copies in or out), and compiles it
 * once: cpu() generated C++, gpu() CUDA (replayed as a CUDA graph from the second step), or the
 * reference interpreter. The learning rate and gradient rescale are 1-element arrays of that
 * graph, so a schedule changes values, not code. See FusedUpdater for what a step costs.
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import { UPDATE_OPS } from "../../compiler/ops/optimizer.js";
import { KilnError } from "../../compiler/base/errors.js";
import { NDArray } from "../ndarray.js";
import { cpu } from "../context.js";
import type { LRScheduler } from "./lr_scheduler.js";
import { FusedUpdater } from "./fused_updater.js";
import type { FusedUpdaterOptions } from "./fused_updater.js";

export type UpdateOpName = keyof typeof UPDATE_OPS;

/** Options every optimizer takes (MXNet's Optimizer.__init__ in camelCase). */
export interface OptimizerOptions {
  /** Default 0.01 (0.001 for Adam and RMSProp). */
  learningRate?: number;
  /** Weight decay (L2 coefficient), default 0. */
  wd?: number;
  /** Gradients are multiplied by this first; Module sets 1/batchSize. Default 1. */
  rescaleGrad?: number;
  /** Clip (rescaled) gradients to ±clipGradient; null, undefined or 0 turns it off (as MXNet's `if self.clip_gradient`). */
  clipGradient?: number | null;
  lrScheduler?: LRScheduler;
  /** The update count to start from (resuming a schedule). */
  beginNumUpdate?: number;
  /** Names of the parameters by index (MXNet's param_idx2name): every name not ending in `_weight` or `_gamma` gets wd multiplier 0. */
  paramIdx2Name?: Record<number, string> | string[];
  /** The symbol whose `__lr_mult__`/`__wd_mult__` variable attributes set multipliers. */
  sym?: Symbol;
  /** Multipliers by parameter name (win over the rules above). */
  lrMult?: Record<string, number>;
  wdMult?: Record<string, number>;
}

/** One parameter a FusedUpdater updates: its own arrays, written in place. */
export interface UpdateParam {
  name: string;
  weight: NDArray;
  grad: NDArray;
}

export abstract class Optimizer {
  rescaleGrad: number;
  wd: number;
  clipGradient: number | null;
  readonly lrScheduler: LRScheduler | undefined;
  readonly beginNumUpdate: number;
  /** The largest update count of any parameter so far (what the scheduler is asked about). */
  numUpdate: number;
  lrMult: Record<string, number> = {};
  wdMult: Record<string, number> = {};
  private lr: number;
  private readonly idx2name: string[];
  private readonly symInfo: { attrs: Record<string, Record<string, string>>; args: string[] } | undefined;

  constructor(opts: OptimizerOptions = {}, defaultLr = 0.01) {
    this.lr = opts.learningRate ?? defaultLr;
    this.wd = opts.wd ?? 0;
    this.rescaleGrad = opts.rescaleGrad ?? 1;
    this.clipGradient = opts.clipGradient ?? null;
    this.lrScheduler = opts.lrScheduler;
    if (this.lrScheduler) this.lrScheduler.baseLr = this.lr;
    this.beginNumUpdate = opts.beginNumUpdate ?? 0;
    this.numUpdate = this.beginNumUpdate;
    const idx = opts.paramIdx2Name ?? [];
    this.idx2name = Array.isArray(idx) ? [...idx] : Object.values(idx);
    this.symInfo = opts.sym ? { attrs: opts.sym.attrDict(), args: opts.sym.listArguments() } : undefined;
    for (const [what, v] of [["learningRate", this.lr], ["wd", this.wd], ["rescaleGrad", this.rescaleGrad]] as const)
      if (!Number.isFinite(v)) throw new KilnError(`${this.constructor.name}: ${what} must be a finite number, got ${v}`);
    this.setLrMult(opts.lrMult ?? {});
    this.setWdMult(opts.wdMult ?? {});
  }

  /** The update op this optimizer runs (depends on its settings: SGD without momentum is sgd_update). */
  abstract get opName(): UpdateOpName;
  /** The op's own parameters besides lr, wd, rescale_grad and clip_gradient. */
  protected abstract opParams(): Record<string, number | boolean>;

  /** Names of the state arrays each parameter gets (zeros at first). */
  get stateNames(): readonly string[] {
    return UPDATE_OPS[this.opName].states;
  }

  /** The learning rate the next step would use before per-step corrections: the schedule's at numUpdate, else the fixed one. */
  get learningRate(): number {
    return this.lrScheduler ? this.lrScheduler.lr(this.numUpdate) : this.lr;
  }

  setLearningRate(lr: number): void {
    if (this.lrScheduler) throw new KilnError("setLearningRate: this optimizer has an lrScheduler, which decides the learning rate");
    this.lr = lr;
  }

  /** MXNet's set_lr_mult: `__lr_mult__` attributes of the symbol, then `mult`. */
  setLrMult(mult: Record<string, number>): void {
    this.lrMult = {};
    for (const [name, v] of this.attrMults("__lr_mult__")) this.lrMult[name] = v;
    Object.assign(this.lrMult, mult);
  }

  /** MXNet's set_wd_mult: 0 for named parameters not ending in _weight/_gamma, `__wd_mult__` attributes, then `mult`. */
  setWdMult(mult: Record<string, number>): void {
    this.wdMult = {};
    for (const n of this.idx2name) if (!(n.endsWith("_weight") || n.endsWith("_gamma"))) this.wdMult[n] = 0;
    for (const [name, v] of this.attrMults("__wd_mult__")) this.wdMult[name] = v;
    Object.assign(this.wdMult, mult);
  }

  /** The learning-rate multiplier of a parameter (1 unless set). */
  lrMultOf(name: string): number {
    return this.lrMult[name] ?? 1;
  }

  /** The weight decay a parameter gets: wd × its multiplier. */
  wdOf(name: string): number {
    return this.wd * (this.wdMult[name] ?? 1);
  }

  /** The learning rate of step t (1-based) given the scheduled one; Adam folds its bias correction in here. */
  stepLr(lr: number, _t: number): number {
    return lr;
  }

  /** The op params of one parameter's update node (lr is its multiplier: the global rate comes in as an array). */
  nodeParams(name: string): Record<string, number | boolean> {
    const clip = this.clipGradient;
    return {
      lr: this.lrMultOf(name),
      wd: this.wdOf(name),
      rescale_grad: 1,
      clip_gradient: clip ? clip : -1,
      ...this.opParams(),
    };
  }

  /** An updater running this optimizer's steps over `params` on their context (see FusedUpdater). */
  createUpdater(params: UpdateParam[], opts: FusedUpdaterOptions = {}): FusedUpdater {
    return new FusedUpdater(this, params, opts);
  }

  private attrMults(key: string): [string, number][] {
    if (!this.symInfo) return [];
    const out: [string, number][] = [];
    for (const name of this.symInfo.args) {
      const v = this.symInfo.attrs[name]?.[key];
      if (v !== undefined) out.push([name, Number(v)]);
    }
    return out;
  }
}

/** SGD with optional momentum (sgd_update / sgd_mom_update). */
export class SGD extends Optimizer {
  readonly momentum: number;
  constructor(opts: OptimizerOptions & { momentum?: number } = {}) {
    super(opts);
    this.momentum = opts.momentum ?? 0;
  }
  get opName(): UpdateOpName {
    return this.momentum !== 0 ? "sgd_mom_update" : "sgd_update";
  }
  protected opParams(): Record<string, number> {
    return this.momentum !== 0 ? { momentum: this.momentum } : {};
  }
}

/** Nesterov accelerated gradient (nag_mom_update; plain SGD without momentum). */
export class NAG extends Optimizer {
  readonly momentum: number;
  constructor(opts: OptimizerOptions & { momentum?: number } = {}) {
    super(opts);
    this.momentum = opts.momentum ?? 0;
  }
  get opName(): UpdateOpName {
    return this.momentum !== 0 ? "nag_mom_update" : "sgd_update";
  }
  protected opParams(): Record<string, number> {
    return this.momentum !== 0 ? { momentum: this.momentum } : {};
  }
}

/** Adam; the step's lr carries the bias correction sqrt(1 − β2^t)/(1 − β1^t), as MXNet's optimizer does. */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(opts: OptimizerOptions & { beta1?: number; beta2?: number; epsilon?: number } = {}) {
    super(opts, 0.001);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
  }
  get opName(): UpdateOpName {
    return "adam_update";
  }
  protected opParams(): Record<string, number> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
  override stepLr(lr: number, t: number): number {
    return (lr * Math.sqrt(1 - this.beta2 ** t)) / (1 - this.beta1 ** t);
  }
}

/** RMSProp: Tieleman & Hinton (rmsprop_update), or Graves's centered version with `centered` (rmspropalex_update). */
export class RMSProp extends Optimizer {
  readonly gamma1: number;
  readonly gamma2: number;
  readonly epsilon: number;
  readonly centered: boolean;
  readonly clipWeights: number | null;
  constructor(opts: OptimizerOptions & { gamma1?: number; gamma2?: number; epsilon?: number; centered?: boolean; clipWeights?: number | null } = {}) {
    super(opts, 0.001);
    this.gamma1 = opts.gamma1 ?? 0.9;
    this.gamma2 = opts.gamma2 ?? 0.9;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.centered = opts.centered ?? false;
    this.clipWeights = opts.clipWeights ?? null;
  }
  get opName(): UpdateOpName {
    return this.centered ? "rmspropalex_update" : "rmsprop_update";
  }
  protected opParams(): Record<string, number> {
    const p: Record<string, number> = { gamma1: this.gamma1, epsilon: this.epsilon, clip_weights: this.clipWeights ? this.clipWeights : -1 };
    if (this.centered) p.gamma2 = this.gamma2;
    return p;
  }
}

/** AdaGrad (adagrad_update): `eps` is added to the history under the square root. */
export class AdaGrad extends Optimizer {
  readonly eps: number;
  constructor(opts: OptimizerOptions & { eps?: number } = {}) {
    super(opts);
    this.eps = opts.eps ?? 1e-7;
  }
  get opName(): UpdateOpName {
    return "adagrad_update";
  }
  protected opParams(): Record<string, number> {
    return { epsilon: this.eps };
  }
}

type Factory = (opts: Record<string, unknown>) => Optimizer;
const registry = new Map<string, Factory>([
  ["sgd", (o) => new SGD(o)],
  ["ccsgd", (o) => new SGD(o)],
  ["nag", (o) => new NAG(o)],
  ["adam", (o) => new Adam(o)],
  ["rmsprop", (o) => new RMSProp(o)],
  ["adagrad", (o) => new AdaGrad(o)],
]);

/** Registers an optimizer under a (case-insensitive) name for `create`. */
export function register(name: string, factory: Factory): void {
  registry.set(name.toLowerCase(), factory);
}

const camel = (k: string): string => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * An optimizer by name ("sgd", "nag", "adam", "rmsprop", "adagrad"; case-insensitive), with
 * options in camelCase or MXNet's snake_case (`learning_rate`, `clip_gradient`, …).
 */
export function create(name: string, params: Record<string, unknown> = {}): Optimizer {
  const f = registry.get(name.toLowerCase());
  if (!f) throw new KilnError(`optimizer.create: unknown optimizer "${name}" (known: ${[...registry.keys()].join(", ")})`);
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) opts[camel(k)] = v;
  return f(opts);
}

export { FusedUpdater } from "./fused_updater.js";
export type { FusedUpdaterOptions } from "./fused_updater.js";
