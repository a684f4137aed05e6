/**
 * Evaluation metrics as MXNet's `mx.metric` (1.x): each keeps a running sum and count, both
 * for the current stretch (`get`, cleared by `resetLocal`, e.g. by Speedometer) and for the
 * whole epoch (`getGlobal`, cleared only by `reset`). Labels and predictions may live on any
 * context; values are read through `toFloat64()`.
 */
import { KilnError } from "../../compiler/base/errors.js";
import { shapeToString } from "../../compiler/base/shape.js";
import { NDArray } from "../ndarray.js";

export interface EvalMetricOptions {
  /** Which predictions `updateDict` passes on, by output name (default all). */
  outputNames?: string[];
  /** Which labels `updateDict` passes on, by name (default all). */
  labelNames?: string[];
}

export abstract class EvalMetric {
  readonly name: string;
  readonly outputNames: string[] | undefined;
  readonly labelNames: string[] | undefined;
  protected sumMetric = 0;
  protected numInst = 0;
  protected globalSumMetric = 0;
  protected globalNumInst = 0;

  constructor(name: string, opts: EvalMetricOptions = {}) {
    this.name = name;
    this.outputNames = opts.outputNames;
    this.labelNames = opts.labelNames;
  }

  /** Adds one batch: labels and predictions, one list entry per label/output. */
  abstract update(labels: NDArray[], preds: NDArray[]): void;

  /** `update` with arrays by name, keeping `labelNames`/`outputNames` (all when not set) in their order. */
  updateDict(labels: Record<string, NDArray>, preds: Record<string, NDArray>): void {
    this.update(pickNamed(labels, this.labelNames, "label"), pickNamed(preds, this.outputNames, "output"));
  }

  /** Clears everything (local and global). */
  reset(): void {
    this.sumMetric = 0;
    this.numInst = 0;
    this.globalSumMetric = 0;
    this.globalNumInst = 0;
  }

  /** Clears the local figures only; the epoch's global ones keep accumulating. */
  resetLocal(): void {
    this.sumMetric = 0;
    this.numInst = 0;
  }

  /** Names and values since the last reset or resetLocal (NaN before any update). */
  get(): [string[], number[]] {
    return [[this.name], [this.numInst === 0 ? NaN : this.sumMetric / this.numInst]];
  }

  /** Names and values since the last reset. */
  getGlobal(): [string[], number[]] {
    return [[this.name], [this.globalNumInst === 0 ? NaN : this.globalSumMetric / this.globalNumInst]];
  }

  getNameValue(): [string, number][] {
    return zip(this.get());
  }

  getGlobalNameValue(): [string, number][] {
    return zip(this.getGlobal());
  }

  toString(): string {
    return `EvalMetric: {${this.getNameValue()
      .map(([n, v]) => `${n}: ${v}`)
      .join(", ")}}`;
  }

  /** Adds to both the local and the global figures. */
  protected accumulate(sum: number, count: number): void {
    this.sumMetric += sum;
    this.numInst += count;
    this.globalSumMetric += sum;
    this.globalNumInst += count;
  }
}

/** Fraction of samples whose predicted class (argmax over `axis`, or the prediction itself when shaped like the label) equals the label. */
export class Accuracy extends EvalMetric {
  constructor(
    readonly axis = 1,
    name = "accuracy",
    opts?: EvalMetricOptions,
  ) {
    super(name, opts);
  }

  update(labels: NDArray[], preds: NDArray[]): void {
    checkCounts(this.name, labels, preds);
    labels.forEach((label, i) => {
      const pred = preds[i];
      const predLabel = sameShape(pred, label) ? pred.toFloat64() : argmax(pred, this.axis, this.name);
      const lab = label.toFloat64();
      if (predLabel.length !== lab.length)
        throw new KilnError(`${this.name}: label ${i} of shape ${shapeToString(label.shape)} does not match prediction ${i} of shape ${shapeToString(pred.shape)} (classes on axis ${this.axis})`);
      let correct = 0;
      for (let k = 0; k < lab.length; k++) if (Math.trunc(predLabel[k]) === Math.trunc(lab[k])) correct++;
      this.accumulate(correct, lab.length);
    });
  }
}

/** Fraction of samples whose label is among the `topK` highest-scored classes. Named `top_k_accuracy_<k>`. */
export class TopKAccuracy extends EvalMetric {
  constructor(
    readonly topK = 1,
    name = "top_k_accuracy",
    opts?: EvalMetricOptions,
  ) {
    super(`${name}_${topK}`, opts);
    if (!Number.isInteger(topK) || topK < 1) throw new KilnError(`TopKAccuracy: top_k must be a positive integer, got ${topK}`);
  }

  update(labels: NDArray[], preds: NDArray[]): void {
    checkCounts(this.name, labels, preds);
    labels.forEach((label, i) => {
      const pred = preds[i];
      if (pred.ndim > 2) throw new KilnError(`${this.name}: predictions must have at most 2 dimensions, prediction ${i} has shape ${shapeToString(pred.shape)}`);
      const p = pred.toFloat64();
      const lab = label.toFloat64();
      const n = pred.ndim === 0 ? 1 : pred.shape[0];
      if (lab.length !== n)
        throw new KilnError(`${this.name}: label ${i} of shape ${shapeToString(label.shape)} does not match prediction ${i} of shape ${shapeToString(pred.shape)}`);
      let correct = 0;
      if (pred.ndim < 2) {
        for (let k = 0; k < n; k++) if (Math.trunc(p[k]) === Math.trunc(lab[k])) correct++;
      } else {
        const c = pred.shape[1];
        for (let r = 0; r < n; r++) {
          const y = Math.trunc(lab[r]);
          if (y < 0 || y >= c) continue;
          // Rank of the label's score: classes scoring higher, or equal with a lower index, come first.
          const s = p[r * c + y];
          let above = 0;
          for (let j = 0; j < c; j++) if (p[r * c + j] > s || (p[r * c + j] === s && j < y)) above++;
          if (above < this.topK) correct++;
        }
      }
      this.accumulate(correct, n);
    });
  }
}

/** Mean over samples of −log(p[label] + eps), predictions being probabilities of shape (N, classes). */
export class CrossEntropy extends EvalMetric {
  constructor(
    readonly eps = 1e-12,
    name = "cross-entropy",
    opts?: EvalMetricOptions,
  ) {
    super(name, opts);
  }

  update(labels: NDArray[], preds: NDArray[]): void {
    checkCounts(this.name, labels, preds);
    labels.forEach((label, i) => {
      const pred = preds[i];
      const lab = label.toFloat64();
      const n = lab.length;
      if (pred.ndim < 1 || pred.shape[0] !== n)
        throw new KilnError(`${this.name}: label ${i} has ${n} values but prediction ${i} has shape ${shapeToString(pred.shape)} (want (${n}, classes))`);
      const p = pred.toFloat64();
      const c = p.length / n;
      let sum = 0;
      for (let r = 0; r < n; r++) {
        const y = Math.trunc(lab[r]);
        if (y < 0 || y >= c) throw new KilnError(`${this.name}: label ${lab[r]} of sample ${r} is outside the ${c} classes of prediction ${i}`);
        sum -= Math.log(p[r * c + y] + this.eps);
      }
      this.accumulate(sum, n);
    });
  }
}

/** MXNet 1.x's regression metrics: each batch's mean error, averaged over batches. */
abstract class RegressionMetric extends EvalMetric {
  protected abstract batchValue(diffs: Float64Array): number;

  update(labels: NDArray[], preds: NDArray[]): void {
    checkCounts(this.name, labels, preds);
    labels.forEach((label, i) => {
      const pred = preds[i];
      const l = label.toFloat64();
      const p = pred.toFloat64();
      if (l.length !== p.length)
        throw new KilnError(`${this.name}: label ${i} of shape ${shapeToString(label.shape)} does not match prediction ${i} of shape ${shapeToString(pred.shape)}`);
      const d = new Float64Array(l.length);
      for (let k = 0; k < d.length; k++) d[k] = l[k] - p[k];
      this.accumulate(this.batchValue(d), 1);
    });
  }
}

function meanOf(d: Float64Array, f: (x: number) => number): number {
  let s = 0;
  for (const x of d) s += f(x);
  return d.length === 0 ? NaN : s / d.length;
}

export class MSE extends RegressionMetric {
  constructor(name = "mse", opts?: EvalMetricOptions) {
    super(name, opts);
  }
  protected batchValue(d: Float64Array): number {
    return meanOf(d, (x) => x * x);
  }
}

export class MAE extends RegressionMetric {
  constructor(name = "mae", opts?: EvalMetricOptions) {
    super(name, opts);
  }
  protected batchValue(d: Float64Array): number {
    return meanOf(d, Math.abs);
  }
}

export class RMSE extends RegressionMetric {
  constructor(name = "rmse", opts?: EvalMetricOptions) {
    super(name, opts);
  }
  protected batchValue(d: Float64Array): number {
    return Math.sqrt(meanOf(d, (x) => x * x));
  }
}

class BinaryStats {
  tp = 0;
  fp = 0;
  fn = 0;
  tn = 0;
  add(o: BinaryStats): void {
    this.tp += o.tp;
    this.fp += o.fp;
    this.fn += o.fn;
    this.tn += o.tn;
  }
  get total(): number {
    return this.tp + this.fp + this.fn + this.tn;
  }
  get fscore(): number {
    const precision = this.tp + this.fp > 0 ? this.tp / (this.tp + this.fp) : 0;
    const recall = this.tp + this.fn > 0 ? this.tp / (this.tp + this.fn) : 0;
    return precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  }
}

/**
 * F1 score of a binary classifier (class 1 positive, prediction = argmax over axis 1).
 * "macro" averages each batch's F1; "micro" computes one F1 over all samples.
 */
export class F1 extends EvalMetric {
  private local = new BinaryStats();
  private global = new BinaryStats();

  constructor(
    readonly average: "macro" | "micro" = "macro",
    name = "f1",
    opts?: EvalMetricOptions,
  ) {
    super(name, opts);
    if (average !== "macro" && average !== "micro") throw new KilnError(`F1: average must be "macro" or "micro", got ${JSON.stringify(average)}`);
  }

  update(labels: NDArray[], preds: NDArray[]): void {
    checkCounts(this.name, labels, preds);
    const batch = new BinaryStats();
    labels.forEach((label, i) => {
      const pred = preds[i];
      const predLabel = argmax(pred, 1, this.name);
      const lab = label.toFloat64();
      if (lab.length !== predLabel.length)
        throw new KilnError(`${this.name}: label ${i} of shape ${shapeToString(label.shape)} does not match prediction ${i} of shape ${shapeToString(pred.shape)}`);
      if (new Set(Array.from(lab, Math.trunc)).size > 2) throw new KilnError(`${this.name}: F1 supports binary classification only; label ${i} has more than 2 classes`);
      for (let k = 0; k < lab.length; k++) {
        const p = predLabel[k] === 1;
        const t = Math.trunc(lab[k]) === 1;
        if (p && t) batch.tp++;
        else if (p) batch.fp++;
        else if (t) batch.fn++;
        else batch.tn++;
      }
    });
    if (this.average === "macro") {
      this.accumulate(batch.fscore, 1);
    } else {
      this.local.add(batch);
      this.global.add(batch);
      this.sumMetric = this.local.fscore * this.local.total;
      this.numInst = this.local.total;
      this.globalSumMetric = this.global.fscore * this.global.total;
      this.globalNumInst = this.global.total;
    }
  }

  override reset(): void {
    super.reset();
    this.local = new BinaryStats();
    this.global = new BinaryStats();
  }

  override resetLocal(): void {
    super.resetLocal();
    this.local = new BinaryStats();
  }
}

/** The mean of the outputs themselves: for graphs whose outputs are losses (MakeLoss). Labels are ignored. */
export class Loss extends EvalMetric {
  constructor(name = "loss", opts?: EvalMetricOptions) {
    super(name, opts);
  }

  update(_labels: NDArray[], preds: NDArray[]): void {
    for (const pred of preds) {
      let s = 0;
      for (const v of pred.toFloat64()) s += v;
      this.accumulate(s, pred.size);
    }
  }
}

/**
 * A metric from a function of one label and one prediction, returning the batch's value or
 * `[sum, count]`.
 */
export class CustomMetric extends EvalMetric {
  constructor(
    readonly feval: (label: NDArray, pred: NDArray) => number | [number, number],
    name?: string,
    readonly allowExtraOutputs = false,
    opts?: EvalMetricOptions,
  ) {
    super(name ?? (feval.name ? feval.name : "custom"), opts);
  }

  update(labels: NDArray[], preds: NDArray[]): void {
    if (!this.allowExtraOutputs) checkCounts(this.name, labels, preds);
    const n = Math.min(labels.length, preds.length);
    for (let i = 0; i < n; i++) {
      const r = this.feval(labels[i], preds[i]);
      if (Array.isArray(r)) this.accumulate(r[0], r[1]);
      else this.accumulate(r, 1);
    }
  }
}

/** Several metrics updated together; `get` lists all their names and values. */
export class CompositeEvalMetric extends EvalMetric {
  readonly metrics: EvalMetric[];

  constructor(metrics: MetricSpec[] = [], name = "composite", opts?: EvalMetricOptions) {
    super(name, opts);
    this.metrics = metrics.map((m) => create(m));
  }

  add(metric: MetricSpec): void {
    this.metrics.push(create(metric));
  }

  getMetric(index: number): EvalMetric {
    const m = this.metrics[index];
    if (!m) throw new KilnError(`CompositeEvalMetric: metric index ${index} is out of range [0, ${this.metrics.length})`);
    return m;
  }

  update(labels: NDArray[], preds: NDArray[]): void {
    for (const m of this.metrics) m.update(labels, preds);
  }

  override updateDict(labels: Record<string, NDArray>, preds: Record<string, NDArray>): void {
    const l = this.labelNames ? Object.fromEntries(Object.entries(labels).filter(([k]) => this.labelNames!.includes(k))) : labels;
    const p = this.outputNames ? Object.fromEntries(Object.entries(preds).filter(([k]) => this.outputNames!.includes(k))) : preds;
    for (const m of this.metrics) m.updateDict(l, p);
  }

  override reset(): void {
    super.reset();
    for (const m of this.metrics) m.reset();
  }

  override resetLocal(): void {
    super.resetLocal();
    for (const m of this.metrics) m.resetLocal();
  }

  override get(): [string[], number[]] {
    return concat(this.metrics.map((m) => m.get()));
  }

  override getGlobal(): [string[], number[]] {
    return concat(this.metrics.map((m) => m.getGlobal()));
  }
}

export type MetricSpec = string | EvalMetric | ((label: NDArray, pred: NDArray) => number | [number, number]) | MetricSpec[];

const REGISTRY: Record<string, (kw: Record<string, unknown>) => EvalMetric> = {
  acc: (kw) => new Accuracy(numArg(kw, "axis", 1)),
  accuracy: (kw) => new Accuracy(numArg(kw, "axis", 1)),
  top_k_accuracy: (kw) => new TopKAccuracy(numArg(kw, "top_k", 1)),
  top_k_acc: (kw) => new TopKAccuracy(numArg(kw, "top_k", 1)),
  topkaccuracy: (kw) => new TopKAccuracy(numArg(kw, "top_k", 1)),
  ce: (kw) => new CrossEntropy(numArg(kw, "eps", 1e-12)),
  crossentropy: (kw) => new CrossEntropy(numArg(kw, "eps", 1e-12)),
  "cross-entropy": (kw) => new CrossEntropy(numArg(kw, "eps", 1e-12)),
  mse: () => new MSE(),
  mae: () => new MAE(),
  rmse: () => new RMSE(),
  f1: (kw) => new F1((kw.average as "macro" | "micro" | undefined) ?? "macro"),
  loss: () => new Loss(),
  composite: () => new CompositeEvalMetric(),
};

/**
 * A metric from a name (MXNet's: "acc"/"accuracy", "top_k_accuracy" (kwargs `{ top_k }`),
 * "ce", "mse", "mae", "rmse", "f1", "loss", "composite"), an instance (returned as is), a
 * function (a CustomMetric), or a list of these (a CompositeEvalMetric).
 */
export function create(metric: MetricSpec, kwargs: Record<string, unknown> = {}): EvalMetric {
  if (metric instanceof EvalMetric) return metric;
  if (typeof metric === "function") return new CustomMetric(metric);
  if (Array.isArray(metric)) return new CompositeEvalMetric(metric.map((m) => create(m, kwargs)));
  if (typeof metric !== "string") throw new KilnError(`metric.create: expected a metric name, an EvalMetric, a function or a list, got ${metric === null ? "null" : typeof metric}`);
  const make = REGISTRY[metric.toLowerCase()];
  if (!make) throw new KilnError(`metric.create: unknown metric ${JSON.stringify(metric)} (known: ${Object.keys(REGISTRY).join(", ")})`);
  return make(kwargs);
}

function numArg(kw: Record<string, unknown>, key: string, dflt: number): number {
  const v = kw[key];
  if (v === undefined) return dflt;
  if (typeof v !== "number") throw new KilnError(`metric.create: ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function checkCounts(name: string, labels: NDArray[], preds: NDArray[]): void {
  if (!Array.isArray(labels) || !Array.isArray(preds)) throw new KilnError(`${name}: update(labels, preds) takes two lists of NDArrays`);
  if (labels.length !== preds.length) throw new KilnError(`${name}: ${labels.length} labels but ${preds.length} predictions`);
}

function sameShape(a: NDArray, b: NDArray): boolean {
  return a.ndim === b.ndim && a.shape.every((d, i) => d === b.shape[i]);
}

/** Index of the largest value along `axis` (the first on ties), as a flat array over the other axes. */
function argmax(a: NDArray, axis: number, who: string): Float64Array {
  const ax = axis < 0 ? axis + a.ndim : axis;
  if (ax < 0 || ax >= a.ndim) throw new KilnError(`${who}: axis ${axis} is out of range for a prediction of shape ${shapeToString(a.shape)}`);
  const v = a.toFloat64();
  const n = a.shape[ax];
  let inner = 1;
  for (const d of a.shape.slice(ax + 1)) inner *= d;
  const outer = n * inner === 0 ? 0 : v.length / (n * inner);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = 0;
      for (let k = 1; k < n; k++) if (v[base + k * inner] > v[base + best * inner]) best = k;
      out[o * inner + i] = best;
    }
  return out;
}

function pickNamed(arrays: Record<string, NDArray>, names: string[] | undefined, what: string): NDArray[] {
  if (!names) return Object.values(arrays);
  return names.map((n) => {
    const a = arrays[n];
    if (!a) throw new KilnError(`metric: no ${what} named ${JSON.stringify(n)} (have ${Object.keys(arrays).join(", ")})`);
    return a;
  });
}

function zip([names, values]: [string[], number[]]): [string, number][] {
  return names.map((n, i) => [n, values[i]]);
}

function concat(parts: [string[], number[]][]): [string[], number[]] {
  return [parts.flatMap((p) => p[0]), parts.flatMap((p) => p[1])];
}
