/**
 * The graphs the back end must handle at their usual sizes: every shared MXNet model file with
 * the input it was made for, and the seed networks with the sizes examples/seed_networks.ts
 * prints. For tests that compile without binding (compileSymbol: kernels, sources, plans).
 */
import { readdirSync } from "node:fs";
import { Symbol, withNameManager } from "../../index.js";
import { smallClassifier, inceptionResNetV2, stackedLSTM, regressionLoss } from "../../examples/seed_networks.js";
import { MODELS_DIR } from "../helpers/paths.js";
import { loadSymbolFile } from "./model_compare.js";

export interface UsualGraph {
  name: string;
  symbol: () => Symbol;
  shapes: Record<string, number[]>;
}

const image = (n: number, c: number, h: number): Record<string, number[]> => ({ data: [n, c, h, h] });

function charLstm(batch: number): Record<string, number[]> {
  const shapes: Record<string, number[]> = {};
  for (let t = 0; t < 129; t++) shapes[`data/${t}`] = [batch];
  for (let l = 0; l < 3; l++) for (const s of ["h", "c"]) shapes[`l${l}_init_${s}`] = [batch, 512];
  return shapes;
}

/** Input shapes of each shared symbol file (as test/mxnet_models.test.ts infers them). */
const USUAL: Record<string, Record<string, number[]>> = {
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
  "char-lstm-obama": charLstm(32),
};

/** Every shared symbol file at its usual input; throws when a file has no entry here. */
export function sharedModelGraphs(): UsualGraph[] {
  const files = readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith("-symbol.json"))
    .map((f) => f.replace(/-symbol\.json$/, ""))
    .sort();
  const missing = files.filter((f) => !USUAL[f]);
  if (missing.length) throw new Error(`model_graphs.ts: no usual input shape for ${missing.join(", ")}`);
  return files.map((f) => ({ name: f, symbol: () => loadSymbolFile(f), shapes: USUAL[f] }));
}

/** The four seed networks at the sizes examples/seed_networks.ts describes them. */
export function seedNetworkGraphs(): UsualGraph[] {
  const named = (build: () => Symbol) => () => withNameManager(build);
  return [
    { name: "small classifier", symbol: named(() => smallClassifier()), shapes: image(32, 3, 160) },
    { name: "Inception-ResNet-v2", symbol: named(() => inceptionResNetV2()), shapes: image(32, 3, 299) },
    { name: "stacked LSTM", symbol: named(() => stackedLSTM()), shapes: { audio_data: [128, 49, 75] } },
    { name: "regression loss", symbol: named(() => regressionLoss()), shapes: { data: [32, 2], label: [32, 1] } },
  ];
}
