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
import { USUAL_SHAPES, image } from "./shared_model_cases.js";

export interface UsualGraph {
  name: string;
  symbol: () => Symbol;
  shapes: Record<string, number[]>;
}

/** Every shared symbol file at its usual input; throws when a file has no entry here. */
export function sharedModelGraphs(): UsualGraph[] {
  const files = readdirSync(MODELS_DIR)
    .filter((f) => f.endsWith("-symbol.json"))
    .map((f) => f.replace(/-symbol\.json$/, ""))
    .sort();
  const missing = files.filter((f) => !USUAL_SHAPES[f]);
  if (missing.length) throw new Error(`model_graphs.ts: no usual input shape for ${missing.join(", ")}`);
  return files.map((f) => ({ name: f, symbol: () => loadSymbolFile(f), shapes: USUAL_SHAPES[f] }));
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
