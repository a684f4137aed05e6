/**
 * Module, as MXNet's `mx.mod.Module`: a symbol bound on one context for training and
 * inference, with its parameters (host copies between steps, the executor's arrays while it
 * runs), an optimizer whose fused update runs on that context, and `fit`/`score`/`predict`
 * over data iterators. Training logs carry the loss besides the metric: cross-entropy of the
 * softmax output for networks ending in SoftmaxOutput, the mean output for MakeLoss.
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { BindCompileOptions, Executor, GradReq } from "../../compiler/symbol/binding.js";
import type { DType } from "../../compiler/base/dtype.js";
import { KilnError } from "../../compiler/base/errors.js";
import { shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import { NDArray } from "../ndarray.js";
import { Context, cpu } from "../context.js";
import "../executor/reference.js";
import "../executor/compiled_binder.js";
import type { DataBatch, DataDesc, DataIter } from "./io.js";
import { Initializer, Uniform } from "./initializer.js";
import { EvalMetric, MetricSpec, create as createMetric } from "./metric.js";
import type { BatchEndCallback, EpochEndCallback } from "./callback.js";
import { saveCheckpoint, loadCheckpoint } from "./checkpoint.js";
import { Optimizer, FusedUpdater, create as createOptimizer } from "./optimizer.js";

export interface ModuleOptions {
  symbol: Symbol;
  dataNames?: string[];
  labelNames?: string[];
  context?: Context;
  /** Parameters that are not updated (no gradient is computed for them). */
  fixedParamNames?: string[];
  /** Compile options of the executor and of the optimizer's update graph (cpu()/gpu()). */
  compile?: BindCompileOptions;
  /** Where fit logs its per-epoch lines (default console.log). */
  logger?: (line: string) => void;
}

export interface BindOptions {
  forTraining?: boolean;
  inputsNeedGrad?: boolean;
  forceRebind?: boolean;
  gradReq?: GradReq;
}

export interface InitParamsOptions {
  initializer?: Initializer;
  argParams?: Record<string, NDArray>;
  auxParams?: Record<string, NDArray>;
  allowMissing?: boolean;
  forceInit?: boolean;
  allowExtra?: boolean;
}

export interface InitOptimizerOptions {
  optimizer?: string | Optimizer;
  /** MXNet-style options (`learning_rate`, `momentum`, … or camelCase); rescale_grad defaults to 1/batchSize. */
  optimizerParams?: Record<string, unknown>;
  forceInit?: boolean;
}

export interface FitOptions extends InitOptimizerOptions {
  numEpoch: number;
  beginEpoch?: number;
  evalData?: DataIter;
  evalMetric?: MetricSpec;
  validationMetric?: MetricSpec;
  initializer?: Initializer;
  argParams?: Record<string, NDArray>;
  auxParams?: Record<string, NDArray>;
  allowMissing?: boolean;
  forceRebind?: boolean;
  batchEndCallback?: BatchEndCallback | BatchEndCallback[];
  epochEndCallback?: EpochEndCallback | EpochEndCallback[];
  evalBatchEndCallback?: BatchEndCallback | BatchEndCallback[];
}

/** What one epoch of fit measured. */
export interface EpochRecord {
  epoch: number;
  train: Record<string, number>;
  /** Mean loss over the epoch's samples (undefined when the network's head has no loss Kiln knows). */
  trainLoss?: number;
  validation?: Record<string, number>;
  validationLoss?: number;
  /** Seconds of the training pass (validation excluded). */
  seconds: number;
}

export interface EvaluateResult {
  metrics: [string, number][];
  loss?: number;
}

const asList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const statesPath = (prefix: string, epoch: number): string => `${prefix}-${String(epoch).padStart(4, "0")}.states`;

export class Module {
  readonly symbol: Symbol;
  readonly dataNames: string[];
  readonly labelNames: string[];
  readonly context: Context;
  readonly fixedParamNames: string[];
  /** Arguments other than data and labels, in listArguments order. */
  readonly paramNames: string[];
  readonly auxNames: string[];
  readonly outputNames: string[];
  binded = false;
  forTraining = false;
  paramsInitialized = false;
  optimizerInitialized = false;
  optimizer: Optimizer | undefined;
  private exe: Executor | undefined;
  private dataShapes: DataDesc[] = [];
  private labelShapes: DataDesc[] = [];
  /** Executors for other input shapes (a smaller last batch), sharing the parameters. */
  private readonly reshaped = new Map<string, Executor>();
  private current: Executor | undefined;
  private updater: FusedUpdater | undefined;
  private argParams: Record<string, NDArray> = {};
  private auxParams: Record<string, NDArray> = {};
  private preloadOptStates: string | undefined;
  private readonly compile: BindCompileOptions | undefined;
  private readonly log: (line: string) => void;

  constructor(opts: ModuleOptions) {
    this.symbol = opts.symbol;
    this.context = opts.context ?? cpu();
    this.dataNames = opts.dataNames ?? ["data"];
    const args = this.symbol.listArguments();
    // A network without a label (MakeLoss) ignores the default label name, as MXNet warns and goes on.
    this.labelNames = (opts.labelNames ?? ["softmax_label"]).filter((n) => args.includes(n));
    this.fixedParamNames = opts.fixedParamNames ?? [];
    for (const n of this.dataNames) if (!args.includes(n)) throw new KilnError(`Module: data name "${n}" is not an argument of the symbol (arguments: ${args.join(", ")})`);
    for (const n of this.fixedParamNames) if (!args.includes(n)) throw new KilnError(`Module: fixed parameter "${n}" is not an argument of the symbol`);
    const inputs = new Set([...this.dataNames, ...this.labelNames]);
    this.paramNames = args.filter((n) => !inputs.has(n));
    this.auxNames = this.symbol.listAuxiliaryStates();
    this.outputNames = this.symbol.listOutputs();
    this.compile = opts.compile;
    this.log = opts.logger ?? ((s: string) => console.log(s));
  }

  /** A module from `prefix-symbol.json` and `prefix-%04d.params` (and, with loadOptimizerStates, `prefix-%04d.states`). */
  static load(prefix: string, epoch: number, opts: Omit<ModuleOptions, "symbol"> & { loadOptimizerStates?: boolean } = {}): Module {
    const { symbol, argParams, auxParams } = loadCheckpoint(prefix, epoch);
    const mod = new Module({ ...opts, symbol });
    mod.argParams = argParams;
    mod.auxParams = auxParams;
    mod.paramsInitialized = true;
    if (opts.loadOptimizerStates) mod.preloadOptStates = statesPath(prefix, epoch);
    return mod;
  }

  /** Binds the executor for these input shapes (MXNet's bind). */
  bind(dataShapes: DataDesc[], labelShapes: DataDesc[] | null = null, opts: BindOptions = {}): void {
    if (this.binded && !opts.forceRebind) return;
    const forTraining = opts.forTraining ?? true;
    const shapes: Record<string, number[]> = {};
    const typeDict: Record<string, DType> = {};
    const descs = [...dataShapes, ...(labelShapes ?? [])];
    for (const d of descs) {
      shapes[d.name] = [...d.shape];
      if (d.dtype) typeDict[d.name] = d.dtype;
    }
    for (const n of this.dataNames) if (!shapes[n]) throw new KilnError(`Module.bind: no shape for data "${n}" (given: ${descs.map((d) => d.name).join(", ")})`);
    const req = opts.gradReq ?? "write";
    const gradReq: Record<string, GradReq> = {};
    for (const n of this.symbol.listArguments()) {
      if (!forTraining || this.labelNames.includes(n)) gradReq[n] = "null";
      else if (this.dataNames.includes(n)) gradReq[n] = opts.inputsNeedGrad ? req : "null";
      else gradReq[n] = this.fixedParamNames.includes(n) ? "null" : req;
    }
    this.exe = this.symbol.simpleBind({ ctx: this.context, shapes, gradReq, typeDict, compile: this.compile });
    this.current = this.exe;
    this.reshaped.clear();
    this.dataShapes = dataShapes.map((d) => ({ ...d, shape: [...d.shape] }));
    this.labelShapes = (labelShapes ?? []).map((d) => ({ ...d, shape: [...d.shape] }));
    this.binded = true;
    this.forTraining = forTraining;
    this.updater = undefined;
    this.optimizerInitialized = false;
    if (this.paramsInitialized) this.copyParamsIn();
  }

  /** Fills the parameters: from argParams/auxParams where given, else with the initializer (default Uniform(0.01)). */
  initParams(opts: InitParamsOptions = {}): void {
    if (this.paramsInitialized && !opts.forceInit) return;
    const exe = this.executor("initParams");
    const initializer = opts.initializer ?? new Uniform(0.01);
    const attrs = this.symbol.attrDict();
    const fill = (names: string[], arrays: Record<string, NDArray>, given: Record<string, NDArray> | undefined, kind: string): Record<string, NDArray> => {
      if (given && !opts.allowExtra) {
        const extra = Object.keys(given).filter((k) => !names.includes(k));
        if (extra.length) throw new KilnError(`Module.initParams: ${kind} ${extra.join(", ")} ${extra.length > 1 ? "are" : "is"} not in the module (set allowExtra to skip)`);
      }
      const out: Record<string, NDArray> = {};
      for (const name of names) {
        const target = arrays[name];
        const host = new NDArray(target.shape, target.dtype, cpu());
        const src = given?.[name];
        if (src) {
          if (!shapesEqual(src.shape, target.shape)) throw new KilnError(`Module.initParams: ${kind} ${name} has shape ${shapeToString(src.shape)}, the module's is ${shapeToString(target.shape)}`);
          src.copyTo(host);
        } else if (given && !opts.allowMissing) {
          throw new KilnError(`Module.initParams: ${kind} ${name} is not presented (set allowMissing to initialize it)`);
        } else initializer.init(name, host, attrs[name]);
        out[name] = host;
      }
      return out;
    };
    this.argParams = fill(this.paramNames, exe.argDict, opts.argParams, "argument");
    this.auxParams = fill(this.auxNames, exe.auxDict, opts.auxParams, "aux state");
    this.paramsInitialized = true;
    this.copyParamsIn();
  }

  /** Sets the parameters (MXNet's set_params: every one must be given unless allowMissing). */
  setParams(argParams: Record<string, NDArray>, auxParams: Record<string, NDArray> = {}, opts: { allowMissing?: boolean; allowExtra?: boolean } = {}): void {
    this.initParams({ argParams, auxParams, allowMissing: opts.allowMissing, allowExtra: opts.allowExtra, forceInit: true });
  }

  /** The current parameters as host (cpu()) copies. */
  getParams(): { argParams: Record<string, NDArray>; auxParams: Record<string, NDArray> } {
    if (!this.paramsInitialized) throw new KilnError("Module.getParams: parameters are not initialized (call initParams)");
    if (this.exe) {
      for (const n of this.paramNames) this.exe.argDict[n].copyTo(this.argParams[n]);
      for (const n of this.auxNames) this.exe.auxDict[n].copyTo(this.auxParams[n]);
    }
    return { argParams: { ...this.argParams }, auxParams: { ...this.auxParams } };
  }

  /** Creates the optimizer and its fused update over the executor's parameter and gradient arrays. */
  initOptimizer(opts: InitOptimizerOptions = {}): void {
    if (this.optimizerInitialized && !opts.forceInit) return;
    const exe = this.executor("initOptimizer");
    if (!this.forTraining) throw new KilnError("Module.initOptimizer: the module is bound for inference (bind with forTraining)");
    const batchSize = this.dataShapes[0].shape[0];
    const spec = opts.optimizer ?? "sgd";
    let optimizer: Optimizer;
    if (typeof spec === "string") {
      const params = { ...(opts.optimizerParams ?? { learning_rate: 0.01 }) };
      if (params.rescale_grad === undefined && params.rescaleGrad === undefined) params.rescaleGrad = 1 / batchSize;
      optimizer = createOptimizer(spec, { ...params, paramIdx2Name: this.paramNames, sym: this.symbol });
    } else {
      optimizer = spec;
      if (optimizer.rescaleGrad !== 1 / batchSize)
        this.log(`Optimizer created manually outside Module but rescaleGrad is not normalized to 1.0/batch_size (${optimizer.rescaleGrad} vs. ${1 / batchSize}). Is this intended?`);
    }
    const grads = exe.gradDict;
    const params = this.paramNames.filter((n) => grads[n]).map((name) => ({ name, weight: exe.argDict[name], grad: grads[name] }));
    this.optimizer = optimizer;
    this.updater = params.length ? optimizer.createUpdater(params, { compile: this.compile }) : undefined;
    if (this.preloadOptStates && this.updater) {
      this.updater.loadStates(this.preloadOptStates);
      this.preloadOptStates = undefined;
    }
    this.optimizerInitialized = true;
  }

  /** Copies the batch into the executor (another executor sharing the parameters when its shapes differ) and runs forward. */
  forward(batch: DataBatch, isTrain?: boolean): void {
    const base = this.executor("forward");
    const feeds: [string, NDArray][] = [...this.dataNames.map((n, i) => [n, batch.data[i]] as [string, NDArray])];
    if (batch.label && batch.label.length) this.labelNames.forEach((n, i) => batch.label[i] && feeds.push([n, batch.label[i]]));
    for (const [n, a] of feeds) if (!a) throw new KilnError(`Module.forward: the batch has no array for ${n}`);
    const mismatch = feeds.some(([n, a]) => !shapesEqual(a.shape, base.argDict[n].shape));
    let exe = base;
    if (mismatch) {
      const shapes = Object.fromEntries(feeds.map(([n, a]) => [n, [...a.shape]]));
      const key = JSON.stringify(shapes);
      exe = this.reshaped.get(key) ?? base.reshape(shapes);
      this.reshaped.set(key, exe);
    }
    for (const [n, a] of feeds) a.copyTo(exe.argDict[n]);
    exe.forward(isTrain ?? this.forTraining);
    this.current = exe;
  }

  backward(outGrads?: NDArray | NDArray[]): void {
    if (!this.forTraining) throw new KilnError("Module.backward: the module is bound for inference");
    this.executor("backward");
    this.current!.backward(outGrads);
  }

  forwardBackward(batch: DataBatch): void {
    this.forward(batch, true);
    this.backward();
  }

  /** One optimizer step over every updated parameter, on the module's context. */
  update(): void {
    if (!this.optimizerInitialized) throw new KilnError("Module.update: call initOptimizer first");
    this.updater?.update();
  }

  getOutputs(): NDArray[] {
    this.executor("getOutputs");
    return this.current!.outputs;
  }

  /** Updates `metric` with the last outputs; the batch's `pad` samples at the end are left out. */
  updateMetric(metric: EvalMetric, labels: NDArray[], pad = 0): void {
    const outs = this.getOutputs();
    metric.update(
      labels.map((l) => sliceRows(l, pad)),
      outs.map((o) => sliceRows(o, pad)),
    );
  }

  /** The last batch's mean loss over its real samples (undefined when the head is neither SoftmaxOutput nor MakeLoss). */
  batchLoss(labels: NDArray[], pad = 0): number | undefined {
    return batchLoss(this.symbol, this.getOutputs(), labels, pad);
  }

  /** Writes `prefix-symbol.json`, `prefix-%04d.params` and, when asked, `prefix-%04d.states` (optimizer states). */
  saveCheckpoint(prefix: string, epoch: number, saveOptimizerStates = false): void {
    const { argParams, auxParams } = this.getParams();
    saveCheckpoint(prefix, epoch, this.symbol, argParams, auxParams);
    if (saveOptimizerStates) {
      if (!this.updater) throw new KilnError("Module.saveCheckpoint: no optimizer states (call initOptimizer first)");
      this.updater.saveStates(statesPath(prefix, epoch));
    }
  }

  /** Runs `evalData` through the network (inference) and returns the metric's values and the mean loss. */
  evaluate(evalData: DataIter, evalMetric: MetricSpec = "acc", opts: { numBatch?: number; reset?: boolean; epoch?: number; batchEndCallback?: BatchEndCallback | BatchEndCallback[] } = {}): EvaluateResult {
    if (!this.binded || !this.paramsInitialized) throw new KilnError("Module.score: bind and initialize the parameters first");
    const metric = createMetric(evalMetric);
    metric.reset();
    if (opts.reset ?? true) evalData.reset();
    let lossSum = 0;
    let lossCount = 0;
    let nbatch = 0;
    for (let batch = evalData.next(); batch !== null; batch = evalData.next()) {
      if (opts.numBatch !== undefined && nbatch >= opts.numBatch) break;
      this.forward(batch, false);
      this.updateMetric(metric, batch.label, batch.pad);
      const loss = this.batchLoss(batch.label, batch.pad);
      const n = batch.data[0].shape[0] - batch.pad;
      if (loss !== undefined) (lossSum += loss * n), (lossCount += n);
      for (const cb of asList(opts.batchEndCallback)) cb({ epoch: opts.epoch ?? 0, nbatch, evalMetric: metric, loss });
      nbatch++;
    }
    return { metrics: metric.getGlobalNameValue(), loss: lossCount ? lossSum / lossCount : undefined };
  }

  /** MXNet's score: the metric's [name, value] pairs over `evalData`. */
  score(evalData: DataIter, evalMetric: MetricSpec = "acc", opts: { numBatch?: number; reset?: boolean } = {}): [string, number][] {
    return this.evaluate(evalData, evalMetric, opts).metrics;
  }

  /** The outputs over `evalData`, batches concatenated along the first axis (pad removed), as cpu() arrays. */
  predict(evalData: DataIter, opts: { numBatch?: number; reset?: boolean } = {}): NDArray[] {
    if (!this.binded || !this.paramsInitialized) throw new KilnError("Module.predict: bind and initialize the parameters first");
    if (opts.reset ?? true) evalData.reset();
    const parts: NDArray[][] = [];
    for (let batch = evalData.next(), nb = 0; batch !== null && (opts.numBatch === undefined || nb < opts.numBatch); batch = evalData.next(), nb++) {
      this.forward(batch, false);
      parts.push(this.getOutputs().map((o) => sliceRows(o.copyTo(cpu()), batch!.pad)));
    }
    if (parts.length === 0) return [];
    return parts[0].map((_, i) => concatRows(parts.map((p) => p[i])));
  }

  /**
   * Trains for epochs [beginEpoch, numEpoch): binds, initializes the parameters (unless they
   * are already, as after Module.load) and the optimizer, then per batch forward, backward,
   * update and metric; logs `Epoch[k] Train-<metric>`, `Train-loss`, `Time cost`, and
   * `Validation-*` with evalData; calls the epoch-end callbacks with the parameters.
   */
  async fit(trainData: DataIter, opts: FitOptions): Promise<EpochRecord[]> {
    if (!Number.isInteger(opts.numEpoch) || opts.numEpoch < 0) throw new KilnError(`Module.fit: numEpoch must be a non-negative integer, got ${opts.numEpoch}`);
    this.bind(trainData.provideData, trainData.provideLabel, { forTraining: true, forceRebind: opts.forceRebind });
    this.initParams({ initializer: opts.initializer, argParams: opts.argParams, auxParams: opts.auxParams, allowMissing: opts.allowMissing, forceInit: opts.forceInit });
    this.initOptimizer({ optimizer: opts.optimizer, optimizerParams: opts.optimizerParams, forceInit: opts.forceInit });
    const metric = createMetric(opts.evalMetric ?? "acc");
    const validationMetric = opts.validationMetric ?? opts.evalMetric ?? "acc";
    const history: EpochRecord[] = [];
    for (let epoch = opts.beginEpoch ?? 0; epoch < opts.numEpoch; epoch++) {
      const tic = performance.now();
      metric.reset();
      let lossSum = 0;
      let lossCount = 0;
      let nbatch = 0;
      for (let batch = trainData.next(); batch !== null; batch = trainData.next()) {
        this.forwardBackward(batch);
        this.update();
        this.updateMetric(metric, batch.label, batch.pad);
        const loss = this.batchLoss(batch.label, batch.pad);
        const n = batch.data[0].shape[0] - batch.pad;
        if (loss !== undefined) (lossSum += loss * n), (lossCount += n);
        for (const cb of asList(opts.batchEndCallback)) await cb({ epoch, nbatch, evalMetric: metric, loss });
        nbatch++;
      }
      const seconds = (performance.now() - tic) / 1000;
      const rec: EpochRecord = { epoch, train: Object.fromEntries(metric.getGlobalNameValue()), trainLoss: lossCount ? lossSum / lossCount : undefined, seconds };
      for (const [n, v] of metric.getGlobalNameValue()) this.log(`Epoch[${epoch}] Train-${n}=${v.toFixed(6)}`);
      if (rec.trainLoss !== undefined) this.log(`Epoch[${epoch}] Train-loss=${rec.trainLoss.toFixed(6)}`);
      this.log(`Epoch[${epoch}] Time cost=${seconds.toFixed(3)}`);
      const { argParams, auxParams } = this.getParams();
      for (const cb of asList(opts.epochEndCallback)) await cb(epoch, this.symbol, argParams, auxParams);
      if (opts.evalData) {
        const res = this.evaluate(opts.evalData, validationMetric, { epoch, batchEndCallback: opts.evalBatchEndCallback });
        rec.validation = Object.fromEntries(res.metrics);
        rec.validationLoss = res.loss;
        for (const [n, v] of res.metrics) this.log(`Epoch[${epoch}] Validation-${n}=${v.toFixed(6)}`);
        if (res.loss !== undefined) this.log(`Epoch[${epoch}] Validation-loss=${res.loss.toFixed(6)}`);
      }
      history.push(rec);
      trainData.reset();
      await new Promise((r) => setImmediate(r));
    }
    return history;
  }

  /** The bound executor (and the one last run, for outputs), or an error naming `what` needs it. */
  private executor(what: string): Executor {
    if (!this.exe || !this.current) throw new KilnError(`Module.${what}: the module is not bound (call bind first)`);
    return this.exe;
  }

  private copyParamsIn(): void {
    const exe = this.exe;
    if (!exe) return;
    const args = Object.fromEntries(Object.entries(this.argParams).filter(([k]) => this.paramNames.includes(k)));
    const aux = Object.fromEntries(Object.entries(this.auxParams).filter(([k]) => this.auxNames.includes(k)));
    exe.copyParamsFrom(args, aux);
  }
}

/** Concatenates host copies of arrays along the first axis. */
function concatRows(arrays: NDArray[]): NDArray {
  const first = arrays[0];
  const rows = arrays.reduce((s, a) => s + a.shape[0], 0);
  const out = new NDArray([rows, ...first.shape.slice(1)], first.dtype, cpu());
  const bytes = new Uint8Array(out.byteLength);
  let off = 0;
  for (const a of arrays) {
    const b = a.toBytes();
    bytes.set(b, off);
    off += b.byteLength;
  }
  return out.setBytes(bytes);
}

/** The first `rows − pad` rows of an array (itself when pad is 0; else a cpu() copy). */
function sliceRows(a: NDArray, pad: number): NDArray {
  if (pad <= 0) return a;
  const keep = a.shape[0] - pad;
  const rowBytes = a.shape[0] === 0 ? 0 : a.byteLength / a.shape[0];
  return new NDArray([keep, ...a.shape.slice(1)], a.dtype, cpu()).setBytes(a.toBytes().subarray(0, keep * rowBytes));
}

/**
 * The mean loss of a batch's real samples: cross-entropy −log p[label] of the probabilities
 * of a SoftmaxOutput head ((batch, classes); rows whose label is ignore_label skipped when
 * use_ignore), or the mean value of a MakeLoss head; undefined for other heads.
 */
function batchLoss(symbol: Symbol, outputs: NDArray[], labels: NDArray[], pad: number): number | undefined {
  const head = symbol.outputs[0]?.node;
  const op = head?.op?.name;
  const out = outputs[0];
  if (!out) return undefined;
  const rows = out.shape[0] - pad;
  if (op === "MakeLoss") {
    const v = out.toFloat64();
    const n = (v.length / out.shape[0]) * rows;
    let s = 0;
    for (let i = 0; i < n; i++) s += v[i];
    return n ? s / n : undefined;
  }
  if (op !== "SoftmaxOutput" || out.ndim !== 2 || !labels[0]) return undefined;
  const p = out.toFloat64();
  const y = labels[0].toFloat64();
  const classes = out.shape[1];
  const params = head.params as { use_ignore?: boolean; ignore_label?: number };
  let s = 0;
  let n = 0;
  for (let r = 0; r < rows; r++) {
    if (params.use_ignore && y[r] === params.ignore_label) continue;
    const c = Math.trunc(y[r]);
    if (c < 0 || c >= classes) throw new KilnError(`Module: label ${y[r]} of sample ${r} is outside the ${classes} classes of ${symbol.listOutputs()[0]}`);
    s -= Math.log(p[r * classes + c] + 1e-12);
    n++;
  }
  return n ? s / n : undefined;
}
