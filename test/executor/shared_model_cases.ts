/**
 * The shared MXNet model files and the inputs each runs at in the executor tests: the smallest
 * shapes shape inference (and BatchNorm's batch statistics) allow, which runs are slow
 * (KILN_SLOW_TESTS=1), and which run in float64. Used by the cpu() and gpu() model tests.
 */
import type { DType } from "../../index.js";

export const SLOW = process.env.KILN_SLOW_TESTS === "1";

/** The char LSTM's inputs: 129 steps of character ids and three layers' begin states (512 hidden). */
export function charLstmShapes(batch: number): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (let t = 0; t < 129; t++) shapes[`data/${t}`] = [batch];
  for (let l = 0; l < 3; l++) for (const s of ["h", "c"]) shapes[`l${l}_init_${s}`] = [batch, 512];
  return shapes;
}

export const image = (n: number, c: number, h: number, w = h): Record<string, number[]> => ({ data: [n, c, h, w] });

/** Each shared symbol file's usual input (as test/mxnet_models infers it): the compile-only tests and bench/memory_fusion use these. */
export const USUAL_SHAPES: Readonly<Record<string, Record<string, number[]>>> = {
  "2-layer-mlp": image(1, 3, 224),
  mnist: image(1, 1, 28),
  "fashion-mnist": image(1, 1, 28),
  lenet: image(1, 1, 28),
  "legacy-mlp-v0.8": { data: [8, 784] },
  "squeezenet-v1.1": image(1, 3, 224),
  "resnet-18": image(2, 3, 224),
  "resnet-50": image(1, 3, 224),
  "resnet-152": image(1, 3, 224),
  "inception-bn-100": image(1, 3, 224),
  mobilenet_v2: image(1, 3, 224),
  "vgg16-reduced": image(32, 3, 300),
  "char-lstm-obama": charLstmShapes(32),
};

export interface Run {
  shapes: Record<string, number[]>;
  slow?: boolean;
  dtype?: DType;
  /** Trained weights of `<file>-<epoch>.params` (inference only). */
  epoch?: string;
}

export interface ModelCase {
  file: string;
  infer: Run;
  train: Run;
  /** Integer arguments: labels and Embedding indices. */
  ints?: [RegExp, number][];
}

export const label = (classes: number): [RegExp, number][] => [[/label/, classes]];

export const CASES: ModelCase[] = [
  { file: "mnist", infer: { shapes: image(4, 1, 28), epoch: "0035" }, train: { shapes: image(2, 1, 28) } },
  { file: "lenet", infer: { shapes: image(4, 1, 28), epoch: "0001" }, train: { shapes: image(2, 1, 28) } },
  { file: "fashion-mnist", infer: { shapes: image(4, 1, 28), epoch: "0039" }, train: { shapes: image(2, 1, 28) } },
  { file: "2-layer-mlp", infer: { shapes: image(2, 3, 224), epoch: "0000" }, train: { shapes: image(2, 3, 8) } },
  { file: "legacy-mlp-v0.8", infer: { shapes: { data: [8, 784] } }, train: { shapes: { data: [8, 784] } }, ints: label(10) },
  { file: "squeezenet-v1.1", infer: { shapes: image(1, 3, 64) }, train: { shapes: image(2, 3, 64) } },
  { file: "mobilenet_v2", infer: { shapes: image(1, 3, 32) }, train: { shapes: image(2, 3, 32) }, ints: label(1000) },
  { file: "vgg16-reduced", infer: { shapes: image(1, 3, 20) }, train: { shapes: image(1, 3, 20) }, ints: label(1000) },
  { file: "resnet-18", infer: { shapes: image(1, 3, 32) }, train: { shapes: image(2, 3, 48) }, ints: label(1000) },
  { file: "resnet-50", infer: { shapes: image(1, 3, 32) }, train: { shapes: image(2, 3, 48), slow: true, dtype: "float64" }, ints: label(63) },
  { file: "resnet-152", infer: { shapes: image(1, 3, 32) }, train: { shapes: image(2, 3, 48), slow: true, dtype: "float64" } },
  { file: "inception-bn-100", infer: { shapes: image(1, 3, 205), slow: true }, train: { shapes: image(1, 3, 205), slow: true, dtype: "float64" }, ints: label(10) },
  { file: "char-lstm-obama", infer: { shapes: charLstmShapes(1) }, train: { shapes: charLstmShapes(1), slow: true, dtype: "float64" }, ints: [[/^data\//, 84], [/^label\//, 84]] },
];
