/**
 * Learning-rate schedules (MXNet's python/mxnet/lr_scheduler.py): a scheduler maps the
 * optimizer's update count to a learning rate. The optimizer calls it once per step with
 * the count after that step's increment (the first step asks for update 1), and sets the
 * scheduler's `baseLr` to its own learning rate when it takes the scheduler.
 */
import { KilnError } from "../../compiler/base/errors.js";

export interface LRSchedulerOptions {
  baseLr?: number;
  /** Updates of warm-up before the schedule proper (default 0). */
  warmupSteps?: number;
  /** The learning rate warm-up starts from (default 0). */
  warmupBeginLr?: number;
  /** "linear" ramps from warmupBeginLr to baseLr, "constant" stays at warmupBeginLr. */
  warmupMode?: "linear" | "constant";
}

export abstract class LRScheduler {
  baseLr: number;
  readonly warmupSteps: number;
  readonly warmupBeginLr: number;
  readonly warmupMode: "linear" | "constant";

  constructor(opts: LRSchedulerOptions = {}) {
    this.baseLr = opts.baseLr ?? 0.01;
    this.warmupSteps = opts.warmupSteps ?? 0;
    this.warmupBeginLr = opts.warmupBeginLr ?? 0;
    this.warmupMode = opts.warmupMode ?? "linear";
    if (!Number.isInteger(this.warmupSteps) || this.warmupSteps < 0) throw new KilnError(`LRScheduler: warmupSteps must be a non-negative integer, got ${this.warmupSteps}`);
    if (this.warmupMode !== "linear" && this.warmupMode !== "constant") throw new KilnError(`LRScheduler: warmupMode must be "linear" or "constant", got "${this.warmupMode}"`);
    if (this.warmupSteps > 0 && this.warmupBeginLr > this.baseLr) throw new KilnError(`LRScheduler: warmupBeginLr ${this.warmupBeginLr} exceeds baseLr ${this.baseLr}`);
  }

  /** The learning rate for update number `numUpdate`. */
  abstract lr(numUpdate: number): number;

  protected warmupLr(numUpdate: number): number {
    if (this.warmupMode === "constant") return this.warmupBeginLr;
    return this.warmupBeginLr + ((this.baseLr - this.warmupBeginLr) * numUpdate) / this.warmupSteps;
  }
}

/**
 * Multiplies the rate by `factor` every `step` updates: baseLr·factor^floor((n−1)/step), never
 * below `stopFactorLr`. Stateful like MXNet's (it moves forward only), which is what makes
 * jumping ahead on resume work: a later count applies every pending decay at once.
 */
export class FactorScheduler extends LRScheduler {
  readonly step: number;
  readonly factor: number;
  readonly stopFactorLr: number;
  private count = 0;

  constructor(opts: { step: number; factor?: number; stopFactorLr?: number } & LRSchedulerOptions) {
    super(opts);
    this.step = opts.step;
    this.factor = opts.factor ?? 1;
    this.stopFactorLr = opts.stopFactorLr ?? 1e-8;
    if (!(this.step >= 1)) throw new KilnError(`FactorScheduler: step must be at least 1 update, got ${this.step}`);
    if (this.factor > 1) throw new KilnError(`FactorScheduler: factor must be at most 1 so that the rate decreases, got ${this.factor}`);
  }

  lr(numUpdate: number): number {
    if (numUpdate < this.warmupSteps) return this.warmupLr(numUpdate);
    while (numUpdate > this.count + this.step) {
      this.count += this.step;
      this.baseLr = Math.max(this.baseLr * this.factor, this.stopFactorLr);
    }
    return this.baseLr;
  }
}

/** Multiplies the rate by `factor` once the update count passes each of the increasing `step` marks. */
export class MultiFactorScheduler extends LRScheduler {
  readonly step: readonly number[];
  readonly factor: number;
  private next = 0;

  constructor(opts: { step: number[]; factor?: number } & LRSchedulerOptions) {
    super(opts);
    this.step = [...opts.step];
    this.factor = opts.factor ?? 1;
    if (this.step.length === 0) throw new KilnError("MultiFactorScheduler: step needs at least one update count");
    this.step.forEach((s, i) => {
      if (!(s >= 1)) throw new KilnError(`MultiFactorScheduler: step[${i}] = ${s}, each must be at least 1`);
      if (i > 0 && s <= this.step[i - 1]) throw new KilnError(`MultiFactorScheduler: steps must increase, but step[${i}] = ${s} follows ${this.step[i - 1]}`);
    });
    if (this.factor > 1) throw new KilnError(`MultiFactorScheduler: factor must be at most 1 so that the rate decreases, got ${this.factor}`);
  }

  lr(numUpdate: number): number {
    if (numUpdate < this.warmupSteps) return this.warmupLr(numUpdate);
    while (this.next < this.step.length && numUpdate > this.step[this.next]) {
      this.next++;
      this.baseLr *= this.factor;
    }
    return this.baseLr;
  }
}
