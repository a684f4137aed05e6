/**
 * Trains a classifier on Fashion-MNIST with Kiln's training API (Module.fit, SGD with
 * momentum as one fused update kernel graph on the device): a LeNet-style CNN with BatchNorm
 * (`--network lenet`, the default) or a 784-128-64-10 MLP (`--network mlp`). It runs on gpu(0)
 * when runtime/devices lists one, else on cpu(), shows a progress bar, logs each epoch's
 * training and validation loss and accuracy, writes a checkpoint per epoch and ends with the
 * test accuracy.
 *
 * Data: the full set (60,000 training images, validation on the 10,000 test images) from
 * --data-dir (default /usr/share/datasets/fashion-mnist); without it, the 1,000 + 500 image
 * subset in examples/data/fashion-mnist-subset (examples/make_fashion_subset.ts wrote it).
 *
 *   node dist/examples/train_fashion_mnist.js --network mlp --epochs 5
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { pathToFileURL } from "node:url";
import { sym, Symbol, Context, cpu, gpu, devices } from "../index.js";
import { Module, io, idx, init, callback, lrScheduler, random } from "../runtime/training/index.js";
import { NDArray } from "../runtime/ndarray.js";
import type { EpochRecord } from "../runtime/training/index.js";
import { FULL_DATASET_DIR, SUBSET_PREFIX, subsetDir } from "./make_fashion_subset.js";

/** Mean and standard deviation of Fashion-MNIST's training pixels (in [0, 1]). */
export const PIXEL_MEAN = 0.286;
export const PIXEL_STD = 0.353;

/**
 * An iterator over an images/labels IDX pair with pixels standardized, (p/255 − mean)/std:
 * data (N, 1, 28, 28), or (N, 784) with `flat`; float32 labels.
 */
export function fashionIter(images: string, labels: string, opts: { batchSize: number; flat: boolean; shuffle?: boolean; seed?: number }): io.NDArrayIter {
  const img = idx.readIdx(images);
  const lab = idx.readIdx(labels);
  const [n, rows, cols] = img.shape;
  if (img.shape.length !== 3 || lab.shape[0] !== n) throw new Error(`${images} / ${labels}: expected (N, rows, cols) images and N labels, got ${img.shape} and ${lab.shape}`);
  const px = new Float32Array(img.data.length);
  for (let i = 0; i < px.length; i++) px[i] = (img.data[i] / 255 - PIXEL_MEAN) / PIXEL_STD;
  // Bytes straight in: the host is little-endian like the arrays' binary form (x86, arm64).
  const data = new NDArray(opts.flat ? [n, rows * cols] : [n, 1, rows, cols], "float32").setBytes(new Uint8Array(px.buffer));
  const label = new NDArray([n], "float32").set(Float32Array.from(lab.data));
  return new io.NDArrayIter({ data, label, batchSize: opts.batchSize, shuffle: opts.shuffle ?? false, seed: opts.seed });
}

/** conv 5×5×20 → BN → relu → pool, conv 5×5×50 → BN → relu → pool, FC 500 → BN → relu, FC 10, softmax. */
export function lenetBN(numClasses = 10): Symbol {
  let x = sym.Variable("data");
  for (const [i, filters] of [
    [1, 20],
    [2, 50],
  ] as const) {
    x = sym.Convolution({ data: x, num_filter: filters, kernel: [5, 5], name: `conv${i}` });
    x = sym.BatchNorm({ data: x, fix_gamma: false, eps: 1e-5, name: `bn${i}` });
    x = sym.Activation({ data: x, act_type: "relu", name: `relu${i}` });
    x = sym.Pooling({ data: x, pool_type: "max", kernel: [2, 2], stride: [2, 2], name: `pool${i}` });
  }
  x = sym.FullyConnected({ data: sym.Flatten({ data: x, name: "flatten" }), num_hidden: 500, name: "fc1" });
  x = sym.BatchNorm({ data: x, fix_gamma: false, eps: 1e-5, name: "bn3" });
  x = sym.Activation({ data: x, act_type: "relu", name: "relu3" });
  x = sym.FullyConnected({ data: x, num_hidden: numClasses, name: "fc2" });
  return sym.SoftmaxOutput({ data: x, name: "softmax" });
}

/** 784 → 128 → 64 → 10 with relu. */
export function mlp(numClasses = 10): Symbol {
  let x = sym.Flatten({ data: sym.Variable("data"), name: "flatten" });
  for (const [i, hidden] of [
    [1, 128],
    [2, 64],
  ] as const) {
    x = sym.FullyConnected({ data: x, num_hidden: hidden, name: `fc${i}` });
    x = sym.Activation({ data: x, act_type: "relu", name: `relu${i}` });
  }
  x = sym.FullyConnected({ data: x, num_hidden: numClasses, name: "fc3" });
  return sym.SoftmaxOutput({ data: x, name: "softmax" });
}

export interface TrainOptions {
  network: "lenet" | "mlp";
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  wd: number;
  /** Multiply the learning rate by this after every epoch (1: constant). Default per network, as `lr`. */
  lrFactor: number;
  dataDir: string;
  checkpointDir: string;
  /** "auto" (gpu(0) when present), "cpu", "gpu" or "gpu:N". */
  device: string;
  /** Train on the shipped subset even when the full set is installed. */
  subset: boolean;
  seed: number;
  /** Progress bar on stderr. */
  progress: boolean;
}

const DEFAULTS: TrainOptions = {
  network: "lenet",
  epochs: 5,
  batchSize: 100,
  lr: NaN,
  momentum: 0.9,
  wd: 1e-4,
  lrFactor: NaN,
  dataDir: FULL_DATASET_DIR,
  checkpointDir: "",
  device: "auto",
  subset: false,
  seed: 42,
  progress: true,
};

const USAGE = `usage: train_fashion_mnist [--network lenet|mlp] [--epochs N] [--batch-size N] [--lr X (lenet 0.1, mlp 0.05)] [--momentum X] [--wd X]
       [--lr-factor X per epoch (lenet 0.7, mlp 0.5)] [--data-dir DIR] [--checkpoint-dir DIR] [--device auto|cpu|gpu|gpu:N] [--subset] [--seed N] [--no-progress]`;

/** Options from command-line words (`--epochs 3`, `--epochs=3`, `--subset`). */
export function parseArgs(argv: readonly string[]): TrainOptions {
  const o: TrainOptions = { ...DEFAULTS };
  const num = (k: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || v.trim() === "" || !Number.isFinite(x)) throw new Error(`--${k} needs a number, got ${v ?? "nothing"}\n${USAGE}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === "-h" || word === "--help") throw new Error(USAGE);
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(word);
    if (!m) throw new Error(`unexpected argument "${word}"\n${USAGE}`);
    const key = m[1];
    const value = (): string | undefined => m[2] ?? argv[++i];
    switch (key) {
      case "network": {
        const v = value();
        if (v !== "lenet" && v !== "mlp") throw new Error(`--network must be lenet or mlp, got ${v}`);
        o.network = v;
        break;
      }
      case "epochs": o.epochs = num(key, value()); break;
      case "batch-size": o.batchSize = num(key, value()); break;
      case "lr": o.lr = num(key, value()); break;
      case "momentum": o.momentum = num(key, value()); break;
      case "wd": o.wd = num(key, value()); break;
      case "lr-factor": o.lrFactor = num(key, value()); break;
      case "seed": o.seed = num(key, value()); break;
      case "data-dir": o.dataDir = value() ?? ""; break;
      case "checkpoint-dir": o.checkpointDir = value() ?? ""; break;
      case "device": o.device = value() ?? "auto"; break;
      case "subset": o.subset = true; break;
      case "no-progress": o.progress = false; break;
      default: throw new Error(`unknown option --${key}\n${USAGE}`);
    }
  }
  // Defaults per network, tuned here for 5 epochs: LeNet-BN takes a larger rate than the plain MLP.
  if (Number.isNaN(o.lr)) o.lr = o.network === "lenet" ? 0.1 : 0.05;
  if (Number.isNaN(o.lrFactor)) o.lrFactor = o.network === "lenet" ? 0.7 : 0.5;
  if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new Error(`--epochs must be a positive integer, got ${o.epochs}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`--batch-size must be a positive integer, got ${o.batchSize}`);
  return o;
}

/** gpu(0) when runtime/devices lists one (for "auto"), else cpu(). */
export function pickContext(device: string): Context {
  if (device === "auto") return devices().some((d) => d.startsWith("gpu")) ? gpu(0) : cpu();
  if (device === "cpu") return cpu();
  const m = /^(?:gpu|cuda)(?::(\d+))?$/.exec(device);
  if (m) return gpu(Number(m[1] ?? 0));
  throw new Error(`--device must be auto, cpu, gpu or gpu:N, got ${device}`);
}

export interface TrainResult {
  network: string;
  context: string;
  dataset: "full" | "subset";
  trainImages: number;
  history: EpochRecord[];
  testAccuracy: number;
  checkpointPrefix: string;
}

/** Trains as `argv` says and returns the per-epoch records and the final test accuracy. */
export async function main(argv: readonly string[] = process.argv.slice(2), log: (line: string) => void = (s) => console.log(s)): Promise<TrainResult> {
  const o = parseArgs(argv);
  const full = !o.subset && existsSync(join(o.dataDir, "train-images-idx3-ubyte.gz")) && existsSync(join(o.dataDir, "t10k-images-idx3-ubyte.gz"));
  const dir = full ? o.dataDir : subsetDir();
  const prefix = full ? "" : SUBSET_PREFIX;
  if (!full)
    log(
      `${o.subset ? "--subset given" : `Fashion-MNIST not found in ${o.dataDir}`}: training on the small subset in ${dir} ` +
        `(1,000 training and 500 test images); expect a lower accuracy than on the full 60,000 images.`,
    );
  random.seed(o.seed);
  const file = (set: string, kind: string, dims: number): string => join(dir, `${prefix}${set}-${kind}-idx${dims}-ubyte.gz`);
  const flat = o.network === "mlp";
  const train = fashionIter(file("train", "images", 3), file("train", "labels", 1), { batchSize: o.batchSize, flat, shuffle: true, seed: o.seed });
  const test = fashionIter(file("t10k", "images", 3), file("t10k", "labels", 1), { batchSize: o.batchSize, flat });
  const ctx = pickContext(o.device);
  const symbol = o.network === "lenet" ? lenetBN() : mlp();
  const ckptDir = o.checkpointDir || join(tmpdir(), "kiln-checkpoints");
  mkdirSync(ckptDir, { recursive: true });
  const ckptPrefix = join(ckptDir, `fashion-mnist-${o.network}`);
  const batches = Math.ceil(train.numData / o.batchSize);
  log(`Training ${o.network} on ${ctx} with ${train.numData} images (${batches} batches of ${o.batchSize}) for ${o.epochs} epochs; checkpoints: ${ckptPrefix}-NNNN.params`);

  const mod = new Module({ symbol, context: ctx, logger: log });
  let bar: InstanceType<typeof callback.ProgressBar> | undefined;
  const progress = (p: { epoch: number; nbatch: number }): void => {
    if (!o.progress) return;
    if (p.nbatch === 0) bar = new callback.ProgressBar({ total: batches, label: `epoch ${p.epoch + 1}/${o.epochs}`, unit: "batch" });
    bar?.update(p.nbatch + 1);
  };
  const history = await mod.fit(train, {
    numEpoch: o.epochs,
    evalData: test,
    evalMetric: "acc",
    optimizer: "sgd",
    optimizerParams: {
      learning_rate: o.lr,
      momentum: o.momentum,
      wd: o.wd,
      lr_scheduler: o.lrFactor < 1 ? new lrScheduler.FactorScheduler({ step: batches, factor: o.lrFactor }) : undefined,
    },
    initializer: new init.Xavier({ rnd_type: "gaussian", factor_type: "in", magnitude: 2 }),
    batchEndCallback: progress,
    epochEndCallback: callback.doCheckpoint(ckptPrefix, 1, { log }),
  });
  const testAccuracy = history[history.length - 1]?.validation?.accuracy ?? NaN;
  log("");
  log("epoch  seconds  train-loss  train-acc  val-loss  val-acc");
  for (const h of history)
    log(
      `${String(h.epoch).padStart(5)}  ${h.seconds.toFixed(1).padStart(7)}  ${(h.trainLoss ?? NaN).toFixed(4).padStart(10)}  ${h.train.accuracy.toFixed(4).padStart(9)}  ` +
        `${(h.validationLoss ?? NaN).toFixed(4).padStart(8)}  ${(h.validation?.accuracy ?? NaN).toFixed(4).padStart(7)}`,
    );
  log(`Final test accuracy (${test.numData} images): ${testAccuracy.toFixed(4)}`);
  return { network: o.network, context: String(ctx), dataset: full ? "full" : "subset", trainImages: train.numData, history, testAccuracy, checkpointPrefix: ckptPrefix };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    process.exit(0);
  }
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
