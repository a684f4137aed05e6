/**
 * Data iterators as MXNet's `mx.io`: a DataIter hands out DataBatches of a fixed batch size,
 * described up front by `provideData`/`provideLabel` (name, batch shape, dtype), so a Module
 * can bind its executor before the first batch. Batches' arrays live on cpu() (host memory);
 * Module copies them into its executor's bound arrays.
 */
import type { DType } from "../../compiler/base/dtype.js";
import { KilnError } from "../../compiler/base/errors.js";
import { shapeToString } from "../../compiler/base/shape.js";
import { cpu } from "../context.js";
import { NDArray } from "../ndarray.js";
import { RandomGenerator, globalRandom } from "./random.js";

/** Name, shape (batch first) and type of one input of a network. */
export interface DataDesc {
  name: string;
  shape: number[];
  dtype?: DType;
}

/** One mini-batch. `pad` counts the samples at the end that only fill the batch up (to be ignored). */
export interface DataBatch {
  data: NDArray[];
  label: NDArray[];
  pad: number;
  /** The position of each sample in the iterator's source arrays. */
  index?: number[];
}

export interface DataIter {
  readonly batchSize: number;
  readonly provideData: DataDesc[];
  readonly provideLabel: DataDesc[];
  /** Starts a new epoch. */
  reset(): void;
  /** The next batch, or null at the end of the epoch. */
  next(): DataBatch | null;
}

export type LastBatchHandle = "pad" | "discard" | "roll_over";

export interface NDArrayIterOptions {
  /** One array (named `dataName`), or arrays by name (fed in name order, as MXNet sorts them). */
  data: NDArray | Record<string, NDArray>;
  label?: NDArray | Record<string, NDArray>;
  batchSize: number;
  /** Reorder the samples at construction and at every reset. */
  shuffle?: boolean;
  /**
   * What the last, incomplete batch becomes: "pad" fills it up with samples from the
   * beginning (`pad` says how many), "discard" drops it, "roll_over" carries its samples
   * into the first batch of the next epoch. Default "pad".
   */
  lastBatchHandle?: LastBatchHandle;
  dataName?: string;
  labelName?: string;
  /** Seed of this iterator's own generator; without it, shuffling draws from the shared one (`init.seed`). */
  seed?: number;
}

/** One source array held as host bytes, so gathering rows is a byte copy for every dtype. */
interface Source {
  name: string;
  dtype: DType;
  rowShape: number[];
  rowBytes: number;
  bytes: Uint8Array;
}

const HANDLES: readonly LastBatchHandle[] = ["pad", "discard", "roll_over"];

/**
 * Iterates over arrays in memory, as MXNet's `NDArrayIter`: batches along the first axis,
 * optionally shuffled by the seeded generator.
 *
 * Unlike MXNet, the first batch of an epoch that starts with rolled-over samples reports
 * `pad` 0 (MXNet reports the number of rolled-over samples there, although each of them is
 * a real sample to be scored).
 */
export class NDArrayIter implements DataIter, Iterable<DataBatch> {
  readonly batchSize: number;
  readonly lastBatchHandle: LastBatchHandle;
  readonly shuffle: boolean;
  /** Number of samples in the source arrays. */
  readonly numData: number;
  private readonly dataSources: Source[];
  private readonly labelSources: Source[];
  private readonly rng: RandomGenerator;
  private order: Int32Array;
  private cursor = 0;
  /** roll_over: sample indices left over from the previous epoch, taken first in this one. */
  private carry: number[] = [];

  constructor(opts: NDArrayIterOptions) {
    if (opts === null || typeof opts !== "object") throw new KilnError("NDArrayIter: expected an options object { data, label?, batchSize, … }");
    const { batchSize } = opts;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new KilnError(`NDArrayIter: batchSize must be a positive integer, got ${batchSize}`);
    const handle = opts.lastBatchHandle ?? "pad";
    if (!HANDLES.includes(handle)) throw new KilnError(`NDArrayIter: lastBatchHandle must be one of ${HANDLES.join(", ")}, got ${JSON.stringify(handle)}`);
    this.batchSize = batchSize;
    this.lastBatchHandle = handle;
    this.shuffle = opts.shuffle ?? false;
    this.dataSources = sources(opts.data, opts.dataName ?? "data", "data");
    if (this.dataSources.length === 0) throw new KilnError("NDArrayIter: data has no arrays");
    this.labelSources = opts.label === undefined ? [] : sources(opts.label, opts.labelName ?? "softmax_label", "label");
    const all = [...this.dataSources, ...this.labelSources];
    const n = rowCount(all[0]);
    const bad = all.find((s) => rowCount(s) !== n);
    if (bad)
      throw new KilnError(
        `NDArrayIter: every array needs the same number of samples (first dimension): ${all.map((s) => `${s.name} has ${rowCount(s)}`).join(", ")}`,
      );
    if (n === 0) throw new KilnError(`NDArrayIter: ${all[0].name} has no samples`);
    this.numData = n;
    this.rng = opts.seed === undefined ? globalRandom : new RandomGenerator(opts.seed);
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    if (this.shuffle) this.rng.shuffle(this.order);
  }

  get provideData(): DataDesc[] {
    return this.dataSources.map((s) => this.desc(s));
  }

  get provideLabel(): DataDesc[] {
    return this.labelSources.map((s) => this.desc(s));
  }

  /** A new epoch: reshuffles when shuffling; with roll_over, keeps the samples the last epoch left over. */
  reset(): void {
    if (this.shuffle) this.rng.shuffle(this.order);
    if (this.cursor < this.numData) this.carry = []; // reset mid-epoch: nothing was left over
    this.cursor = 0;
  }

  /** A new epoch that also drops rolled-over samples (MXNet's `hard_reset`). */
  hardReset(): void {
    this.carry = [];
    this.cursor = this.numData;
    this.reset();
  }

  next(): DataBatch | null {
    const B = this.batchSize;
    const N = this.numData;
    if (this.carry.length > 0 && this.cursor === 0) {
      const take = Math.min(B - this.carry.length, N);
      const idx = [...this.carry, ...Array.from(this.order.subarray(0, take))];
      this.cursor = take;
      if (idx.length < B) {
        // Fewer samples than one batch even with the carry: keep carrying.
        this.carry = idx;
        this.cursor = N;
        return null;
      }
      this.carry = [];
      return this.batch(idx, 0);
    }
    if (this.cursor >= N) return null;
    const start = this.cursor;
    if (start + B <= N) {
      this.cursor += B;
      return this.batch(Array.from(this.order.subarray(start, start + B)), 0);
    }
    const rest = Array.from(this.order.subarray(start, N));
    this.cursor = N;
    if (this.lastBatchHandle === "discard") return null;
    if (this.lastBatchHandle === "roll_over") {
      this.carry = rest;
      return null;
    }
    const pad = B - rest.length;
    for (let i = 0; i < pad; i++) rest.push(this.order[i % N]);
    return this.batch(rest, pad);
  }

  /** Batches from the current position to the end of the epoch (no reset, as MXNet's `__iter__`). */
  *[Symbol.iterator](): Iterator<DataBatch> {
    for (let b = this.next(); b !== null; b = this.next()) yield b;
  }

  private desc(s: Source): DataDesc {
    return { name: s.name, shape: [this.batchSize, ...s.rowShape], dtype: s.dtype };
  }

  private batch(idx: number[], pad: number): DataBatch {
    return { data: this.dataSources.map((s) => gather(s, idx)), label: this.labelSources.map((s) => gather(s, idx)), pad, index: idx };
  }
}

function rowCount(s: Source): number {
  return s.rowBytes === 0 ? 0 : s.bytes.byteLength / s.rowBytes;
}

function sources(value: NDArray | Record<string, NDArray>, defaultName: string, what: string): Source[] {
  let entries: [string, unknown][];
  if (value instanceof NDArray) entries = [[defaultName, value]];
  else if (Array.isArray(value))
    entries = value.length === 1 ? [[defaultName, value[0]]] : value.map((a, i) => [`_${i}_${defaultName}`, a] as [string, unknown]);
  else if (value !== null && typeof value === "object") entries = Object.entries(value).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  else throw new KilnError(`NDArrayIter: ${what} must be an NDArray or a record of NDArrays by name, got ${value === null ? "null" : typeof value}`);
  return entries.map(([name, a]) => {
    if (!(a instanceof NDArray)) throw new KilnError(`NDArrayIter: ${what} ${JSON.stringify(name)} is not an NDArray`);
    if (a.ndim === 0) throw new KilnError(`NDArrayIter: ${what} ${JSON.stringify(name)} has shape ${shapeToString(a.shape)}; it needs a first (sample) dimension`);
    const rowShape = a.shape.slice(1);
    const rowBytes = a.shape[0] === 0 ? 0 : a.byteLength / a.shape[0];
    if (rowBytes === 0 && a.shape[0] > 0) throw new KilnError(`NDArrayIter: ${what} ${JSON.stringify(name)} of shape ${shapeToString(a.shape)} has empty samples`);
    return { name, dtype: a.dtype, rowShape, rowBytes, bytes: a.toBytes() };
  });
}

function gather(s: Source, idx: number[]): NDArray {
  const out = new Uint8Array(idx.length * s.rowBytes);
  for (let k = 0; k < idx.length; k++) out.set(s.bytes.subarray(idx[k] * s.rowBytes, (idx[k] + 1) * s.rowBytes), k * s.rowBytes);
  return new NDArray([idx.length, ...s.rowShape], s.dtype, cpu()).setBytes(out);
}
