/**
 * Training callbacks as MXNet's `mx.callback`: Speedometer and logTrainMetric (batch end),
 * doCheckpoint (epoch end), plus a terminal ProgressBar for anything counted (epochs,
 * batches, kernels being compiled).
 */
import { KilnError } from "../../compiler/base/errors.js";
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { NDArray } from "../ndarray.js";
import type { EvalMetric } from "./metric.js";
import { saveCheckpoint } from "./checkpoint.js";

export interface BatchEndParam {
  epoch: number;
  /** Index of the batch just finished in this epoch (0 for the first). */
  nbatch: number;
  evalMetric: EvalMetric;
  /** The batch's loss, when the trainer computes one. */
  loss?: number;
}
export type BatchEndCallback = (p: BatchEndParam) => void;
export type EpochEndCallback = (epoch: number, symbol: Symbol, argParams: Record<string, NDArray>, auxParams: Record<string, NDArray>) => void;

export interface LogOptions {
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Clock in milliseconds (default performance.now); for tests. */
  now?: () => number;
}

/** Python's `%f`: six decimals, and nan/inf spelled as Python spells them. */
export function formatFloat(v: number, digits = 6): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  return v.toFixed(digits);
}

function metricText(pairs: [string, number][]): string {
  return pairs.map(([n, v]) => `\t${n}=${formatFloat(v)}`).join("");
}

/**
 * Logs the training speed and the metric every `frequent` batches, as MXNet:
 * `Epoch[0] Batch [50-100]\tSpeed: 1234.56 samples/sec\taccuracy=0.912000`, then the batch's
 * loss (`\tloss=…`) when the trainer passes one. With autoReset the metric's local figures
 * are cleared after each line, so each line covers its own batches (`[50-100]`); without, the
 * line covers the epoch so far (`[0-100]`).
 */
export function Speedometer(batchSize: number, frequent = 50, autoReset = true, opts: LogOptions = {}): BatchEndCallback {
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new KilnError(`Speedometer: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(frequent) || frequent <= 0) throw new KilnError(`Speedometer: frequent must be a positive integer, got ${frequent}`);
  const log = opts.log ?? ((s: string) => console.log(s));
  const now = opts.now ?? (() => performance.now());
  let init = false;
  let tic = 0;
  let lastCount = 0;
  return (p: BatchEndParam) => {
    const count = p.nbatch;
    if (lastCount > count) init = false; // a new epoch
    lastCount = count;
    if (!init) {
      init = true;
      tic = now();
      return;
    }
    if (count % frequent !== 0) return;
    const elapsed = (now() - tic) / 1000;
    const speed = elapsed > 0 ? (frequent * batchSize) / elapsed : Infinity;
    let line: string;
    if (p.evalMetric) {
      const pairs = p.evalMetric.getNameValue();
      if (autoReset) p.evalMetric.resetLocal();
      line = `Epoch[${p.epoch}] Batch [${autoReset ? count - frequent : 0}-${count}]\tSpeed: ${formatFloat(speed, 2)} samples/sec${metricText(pairs)}`;
      if (p.loss !== undefined && !pairs.some(([n]) => n === "loss")) line += `\tloss=${formatFloat(p.loss)}`;
    } else {
      line = `Iter[${p.epoch}] Batch [${count}]\tSpeed: ${formatFloat(speed, 2)} samples/sec`;
      if (p.loss !== undefined) line += `\tloss=${formatFloat(p.loss)}`;
    }
    log(line);
    tic = now();
  };
}

/** Logs the metric every `period` batches: `Iter[0] Batch[100] Train-accuracy=0.912000` (MXNet's log_train_metric). */
export function logTrainMetric(period: number, autoReset = false, opts: LogOptions = {}): BatchEndCallback {
  const log = opts.log ?? ((s: string) => console.log(s));
  return (p: BatchEndParam) => {
    if (p.nbatch % period !== 0 || !p.evalMetric) return;
    for (const [n, v] of p.evalMetric.getNameValue()) log(`Iter[${p.epoch}] Batch[${p.nbatch}] Train-${n}=${formatFloat(v)}`);
    if (autoReset) p.evalMetric.resetLocal();
  };
}

/**
 * Saves a checkpoint (prefix-symbol.json, prefix-%04d.params) every `period` epochs, numbered
 * from 1 as MXNet's do_checkpoint: the end of epoch 0 writes prefix-0001.params.
 */
export function doCheckpoint(prefix: string, period = 1, opts: Pick<LogOptions, "log"> = {}): EpochEndCallback {
  const every = Math.max(1, Math.trunc(period));
  const log = opts.log ?? ((s: string) => console.log(s));
  return (epoch, symbol, argParams, auxParams) => {
    if ((epoch + 1) % every !== 0) return;
    const file = saveCheckpoint(prefix, epoch + 1, symbol, argParams, auxParams);
    log(`Saved checkpoint to "${file}"`);
  };
}

/** What ProgressBar writes to: process.stderr, or anything with write (and isTTY/columns when a terminal). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  total: number;
  /** Text before the bar ("epoch 3", "compiling"). */
  label?: string;
  /** What is counted, for the rate ("samples", "kernels"; default "it"). */
  unit?: string;
  /** Characters of the bar itself (default 30). */
  width?: number;
  stream?: ProgressStream;
  /** Redraw in place (default: whether the stream is a TTY). */
  tty?: boolean;
  now?: () => number;
}

/**
 * A progress bar: `label [##########··········] 50/100  50%  12.3 it/s  ETA 0:04`. On a
 * terminal it redraws one line in place (at most every 100 ms); otherwise it prints a line
 * each time another tenth is done, so logs stay short.
 */
export class ProgressBar {
  readonly total: number;
  current = 0;
  label: string;
  private readonly unit: string;
  private readonly width: number;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastTenth = 0;
  private finished = false;

  constructor(opts: ProgressBarOptions) {
    if (!Number.isFinite(opts.total) || opts.total < 0) throw new KilnError(`ProgressBar: total must be a non-negative number, got ${opts.total}`);
    this.total = opts.total;
    this.label = opts.label ?? "";
    this.unit = opts.unit ?? "it";
    this.width = opts.width ?? 30;
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? this.stream.isTTY === true;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** Advances by `n` (default 1). */
  tick(n = 1, label?: string): void {
    this.update(this.current + n, label);
  }

  /** Sets the count done so far. */
  update(current: number, label?: string): void {
    if (this.finished) return;
    this.current = Math.min(current, this.total);
    if (label !== undefined) this.label = label;
    const t = this.now();
    if (this.tty) {
      if (this.current >= this.total || t - this.lastDraw >= 100) {
        this.lastDraw = t;
        this.stream.write(`\r${this.render(t)}\x1b[K`);
      }
    } else {
      const tenth = this.total === 0 ? 10 : Math.floor((this.current / this.total) * 10);
      if (tenth > this.lastTenth) {
        this.lastTenth = tenth;
        this.stream.write(`${this.render(t)}\n`);
      }
    }
    if (this.current >= this.total) this.finish();
  }

  /** Ends the bar (a final newline on a terminal); later updates are ignored. */
  finish(label?: string): void {
    if (this.finished) return;
    if (label !== undefined) this.label = label;
    this.finished = true;
    if (this.tty) this.stream.write(`\r${this.render(this.now())}\x1b[K\n`);
    else if (this.lastTenth < 10) this.stream.write(`${this.render(this.now())}\n`);
  }

  /** A batch-end callback that advances this bar by one batch. */
  batchCallback(): BatchEndCallback {
    return (p) => this.update(p.nbatch + 1);
  }

  /** The bar's text at time `t`. */
  render(t = this.now()): string {
    const frac = this.total === 0 ? 1 : this.current / this.total;
    const filled = Math.round(frac * this.width);
    const bar = "#".repeat(filled) + "·".repeat(this.width - filled);
    const secs = (t - this.start) / 1000;
    const rate = secs > 0 ? this.current / secs : 0;
    const eta = rate > 0 ? (this.total - this.current) / rate : NaN;
    const pct = `${Math.floor(frac * 100)}`.padStart(3);
    const parts = [
      `${this.label ? `${this.label} ` : ""}[${bar}] ${this.current}/${this.total}`,
      `${pct}%`,
      `${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} ${this.unit}/s`,
      this.current >= this.total ? `${duration(secs)}` : `ETA ${Number.isFinite(eta) ? duration(eta) : "?"}`,
    ];
    return parts.join("  ");
  }
}

function duration(s: number): string {
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}
