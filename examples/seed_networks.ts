/**
 * Four seed networks written with Kiln's MXNet-style symbol API: a small image classifier,
 * Inception-ResNet-v2, two stacked LSTMs over audio frames, and a custom regression loss.
 * Run it (`npm start`) to build each one, infer its shapes and run the small ones forward and
 * backward on the reference executor. Copy a builder to start your own network.
 */
import { pathToFileURL } from "node:url";
import { sym, Symbol, reference, nd, withNameManager, defaultContext, CompiledExecutor, Context } from "../index.js";
import type { Executor, DType } from "../index.js";
import { rnn } from "../compiler/rnn/index.js";

// ---------------------------------------------------------------------------------------------
// 1. A small classifier: 4 × (3×3 conv + relu + 2×2 max pool), 2 × (3×3 conv 96 + relu), 3 FC.
// ---------------------------------------------------------------------------------------------

/** Input (batch, 3, 160, 160); any size ≥ 80 whose stages divide evenly works. */
export function smallClassifier(numClasses = 12, dropout = 0.5): Symbol {
  let x = sym.BatchNorm({ data: sym.Variable("data"), fix_gamma: true, name: "bn_data" });
  [32, 32, 64, 64].forEach((filters, i) => {
    x = sym.Convolution({ data: x, num_filter: filters, kernel: [3, 3], pad: [1, 1], name: `conv${i + 1}` });
    x = sym.Activation({ data: x, act_type: "relu", name: `relu${i + 1}` });
    x = sym.Pooling({ data: x, pool_type: "max", kernel: [2, 2], stride: [2, 2], name: `pool${i + 1}` });
  });
  for (const i of [5, 6]) {
    x = sym.Convolution({ data: x, num_filter: 96, kernel: [3, 3], name: `conv${i}` });
    x = sym.Activation({ data: x, act_type: "relu", name: `relu${i}` });
  }
  x = sym.Flatten({ data: x, name: "flatten" });
  x = sym.FullyConnected({ data: x, num_hidden: 256, name: "fc1" });
  x = sym.Dropout({ data: sym.Activation({ data: x, act_type: "relu", name: "relu_fc1" }), p: dropout, name: "drop1" });
  x = sym.FullyConnected({ data: x, num_hidden: 32, name: "fc2" });
  x = sym.Dropout({ data: sym.Activation({ data: x, act_type: "relu", name: "relu_fc2" }), p: dropout, name: "drop2" });
  x = sym.FullyConnected({ data: x, num_hidden: numClasses, name: "fc3" });
  return sym.SoftmaxOutput({ data: x, name: "softmax" });
}

// ---------------------------------------------------------------------------------------------
// 2. Inception-ResNet-v2, as MXNet's example/image-classification/symbols/inception-resnet-v2.py
// ---------------------------------------------------------------------------------------------

interface ConvSpec {
  stride?: [number, number];
  pad?: [number, number];
  withAct?: boolean;
}

/** Convolution + BatchNorm (+ relu): the building brick of every Inception tower. */
function convFactory(data: Symbol, numFilter: number, kernel: [number, number], spec: ConvSpec = {}): Symbol {
  const conv = sym.Convolution({ data, num_filter: numFilter, kernel, stride: spec.stride ?? [1, 1], pad: spec.pad ?? [0, 0] });
  const bn = sym.BatchNorm({ data: conv });
  return spec.withAct === false ? bn : sym.Activation({ data: bn, act_type: "relu" });
}

/** `net + scale · towerOut`, then relu unless `withAct` is false: the residual of every block. */
function residual(net: Symbol, towers: Symbol[], channels: number, scale: number, withAct: boolean): Symbol {
  const towerOut = convFactory(sym.Concat({ data: towers }), channels, [1, 1], { withAct: false });
  const sum = net.plus(towerOut.mul(scale));
  return withAct ? sym.Activation({ data: sum, act_type: "relu" }) : sum;
}

/** The 35×35 block (Inception-ResNet-A). */
function block35(net: Symbol, channels: number, scale: number, withAct = true): Symbol {
  const t0 = convFactory(net, 32, [1, 1]);
  const t1 = convFactory(convFactory(net, 32, [1, 1]), 32, [3, 3], { pad: [1, 1] });
  const t2a = convFactory(convFactory(net, 32, [1, 1]), 48, [3, 3], { pad: [1, 1] });
  const t2 = convFactory(t2a, 64, [3, 3], { pad: [1, 1] });
  return residual(net, [t0, t1, t2], channels, scale, withAct);
}

/** The 17×17 block (Inception-ResNet-B). 129 filters and the odd pads are MXNet's, kept as is. */
function block17(net: Symbol, channels: number, scale: number, withAct = true): Symbol {
  const t0 = convFactory(net, 192, [1, 1]);
  const t1a = convFactory(convFactory(net, 129, [1, 1]), 160, [1, 7], { pad: [1, 2] });
  const t1 = convFactory(t1a, 192, [7, 1], { pad: [2, 1] });
  return residual(net, [t0, t1], channels, scale, withAct);
}

/** The 8×8 block (Inception-ResNet-C). */
function block8(net: Symbol, channels: number, scale: number, withAct = true): Symbol {
  const t0 = convFactory(net, 192, [1, 1]);
  const t1a = convFactory(convFactory(net, 192, [1, 1]), 224, [1, 3], { pad: [0, 1] });
  const t1 = convFactory(t1a, 256, [3, 1], { pad: [1, 0] });
  return residual(net, [t0, t1], channels, scale, withAct);
}

function repeat(net: Symbol, times: number, block: (x: Symbol) => Symbol): Symbol {
  for (let i = 0; i < times; i++) net = block(net);
  return net;
}

const maxPool3s2 = (data: Symbol): Symbol => sym.Pooling({ data, kernel: [3, 3], stride: [2, 2], pool_type: "max" });

/** Input (batch, 3, 299, 299). */
export function inceptionResNetV2(numClasses = 1000): Symbol {
  const data = sym.Variable("data");
  // Stem: 299 → 35×35×320.
  let net = convFactory(data, 32, [3, 3], { stride: [2, 2] });
  net = convFactory(net, 32, [3, 3]);
  net = convFactory(net, 64, [3, 3], { pad: [1, 1] });
  net = maxPool3s2(net);
  net = convFactory(net, 80, [1, 1]);
  net = convFactory(net, 192, [3, 3]);
  net = maxPool3s2(net);
  const t0 = convFactory(net, 96, [1, 1]);
  const t1 = convFactory(convFactory(net, 48, [1, 1]), 64, [5, 5], { pad: [2, 2] });
  const t2 = convFactory(convFactory(convFactory(net, 64, [1, 1]), 96, [3, 3], { pad: [1, 1] }), 96, [3, 3], { pad: [1, 1] });
  const t3 = convFactory(sym.Pooling({ data: net, kernel: [3, 3], stride: [1, 1], pad: [1, 1], pool_type: "avg" }), 64, [1, 1]);
  net = sym.Concat({ data: [t0, t1, t2, t3] });
  net = repeat(net, 10, (x) => block35(x, 320, 0.17));

  // Reduction A: 35 → 17×17×1088.
  {
    const r0 = convFactory(net, 384, [3, 3], { stride: [2, 2] });
    const r1 = convFactory(convFactory(convFactory(net, 256, [1, 1]), 256, [3, 3], { pad: [1, 1] }), 384, [3, 3], { stride: [2, 2] });
    net = sym.Concat({ data: [r0, r1, maxPool3s2(net)] });
  }
  net = repeat(net, 20, (x) => block17(x, 1088, 0.1));

  // Reduction B: 17 → 8×8×2080.
  {
    const r0 = convFactory(convFactory(net, 256, [1, 1]), 384, [3, 3], { stride: [2, 2] });
    const r1 = convFactory(convFactory(net, 256, [1, 1]), 288, [3, 3], { stride: [2, 2] });
    const r2 = convFactory(convFactory(convFactory(net, 256, [1, 1]), 288, [3, 3], { pad: [1, 1] }), 320, [3, 3], { stride: [2, 2] });
    net = sym.Concat({ data: [r0, r1, r2, maxPool3s2(net)] });
  }
  net = repeat(net, 9, (x) => block8(x, 2080, 0.2));
  net = block8(net, 2080, 1.0, false);

  net = convFactory(net, 1536, [1, 1]);
  net = sym.Pooling({ data: net, kernel: [1, 1], global_pool: true, stride: [2, 2], pool_type: "avg" });
  net = sym.Flatten({ data: net });
  net = sym.Dropout({ data: net, p: 0.2 });
  net = sym.FullyConnected({ data: net, num_hidden: numClasses });
  return sym.SoftmaxOutput({ data: net, name: "softmax" });
}

// ---------------------------------------------------------------------------------------------
// 3. Two stacked LSTMs over audio frames (batch, 49, 75): the last output of each, side by side.
// ---------------------------------------------------------------------------------------------

/** `dtype` is the type of the zero begin states (float32 as in MXNet; float64 for gradient checks). */
export function stackedLSTM(opts: { seqLen?: number; numHidden?: number; dtype?: DType } = {}): Symbol {
  const seqLen = opts.seqLen ?? 49;
  const numHidden = opts.numHidden ?? 256;
  const audio = sym.Variable("audio_data");
  const lstm1 = new rnn.LSTMCell({ numHidden, prefix: "lstm1_" });
  const lstm2 = new rnn.LSTMCell({ numHidden, prefix: "lstm2_" });
  const zeros = (cell: InstanceType<typeof rnn.LSTMCell>) => cell.beginState({ dtype: opts.dtype ?? "float32" });
  // lstm1 splits the (batch, time, features) input into steps; lstm2 reads lstm1's step outputs.
  const [out1] = lstm1.unroll(seqLen, audio, { layout: "NTC", mergeOutputs: false, beginState: zeros(lstm1) });
  const [out2] = lstm2.unroll(seqLen, out1, { layout: "NTC", mergeOutputs: false, beginState: zeros(lstm2) });
  const last = (outs: Symbol[]) => sym.Reshape({ data: outs[outs.length - 1], shape: [-1, numHidden] });
  return sym.Concat({ data: [last(out1), last(out2)], dim: 1 });
}

// ---------------------------------------------------------------------------------------------
// 4. A custom loss: y = FC(x), loss = MakeLoss((y − label)²), with y itself as a second output.
// ---------------------------------------------------------------------------------------------

export function regressionLoss(): Symbol {
  const y = sym.FullyConnected({ data: sym.Variable("data"), num_hidden: 1, name: "fc" });
  const loss = sym.MakeLoss({ data: sym.square({ data: y.minus(sym.Variable("label")) }), name: "loss" });
  // BlockGrad lets the prediction be read without sending a gradient back through it.
  return sym.Group([loss, sym.BlockGrad({ data: y, name: "pred" })]);
}

// ---------------------------------------------------------------------------------------------
// Running them.
// ---------------------------------------------------------------------------------------------

/** Deterministic uniform numbers in [lo, hi), so every run prints the same values. */
export function uniform(seed: number): (lo: number, hi: number) => number {
  let s = seed >>> 0 || 1;
  return (lo, hi) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 4294967296;
  };
}

/** Fills every argument with small random values (labels with class indices) and aux states with 0/1. */
export function fillRandom(exe: Executor, seed = 1, numClasses = 0): void {
  const u = uniform(seed);
  for (const [name, arr] of Object.entries(exe.argDict)) {
    const isLabel = name.endsWith("_label") && numClasses > 0;
    const scale = name.endsWith("_weight") ? Math.sqrt(3 / Math.max(1, arr.size / arr.shape[0])) : 1;
    arr.set(Array.from({ length: arr.size }, () => (isLabel ? Math.floor(u(0, numClasses)) : u(-scale, scale))));
  }
  for (const [name, arr] of Object.entries(exe.auxDict)) arr.set(name.endsWith("_var") ? 1 : 0);
}

/** Binds on `ctx`, runs forward(train) + backward, and reports the time (compilation included on first use). */
export function trainStep(net: Symbol, shapes: Record<string, number[]>, numClasses = 0, ctx: Context = reference()): { exe: Executor; ms: number } {
  const exe = net.simpleBind({ ctx, shapes, gradReq: "write" });
  fillRandom(exe, 1, numClasses);
  const t0 = performance.now();
  exe.forward(true);
  // Loss outputs ignore their head gradient; other outputs (LSTM states, BlockGrad) get ones.
  exe.backward(exe.outputs.map((o) => nd.ones(o.shape, { ctx })));
  return { exe, ms: performance.now() - t0 };
}

/** Largest relative difference between two executors' gradients (the compiled device vs the oracle). */
function maxRelDiff(a: Executor, b: Executor): number {
  let worst = 0;
  for (const [name, ga] of Object.entries(a.gradDict)) {
    const x = ga.toArray();
    const y = b.gradDict[name].toArray();
    const scale = y.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
    x.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - y[i]) / scale)));
  }
  return worst;
}

function compiledSummary(exe: Executor): string {
  if (!(exe instanceof CompiledExecutor)) return "";
  const m = exe.memory;
  return `${exe.kernels.length} kernels, arena ${(m.plannedBytes / 1024).toFixed(0)} KiB (naive ${(m.naiveBytes / 1024).toFixed(0)} KiB)`;
}

const fmt = (s: readonly number[]): string => `(${s.join(", ")})`;

function describe(title: string, net: Symbol, shapes: Record<string, number[]>): string {
  const [args, outs, aux] = net.inferShape(shapes);
  const inputs = new Set(Object.keys(shapes));
  const params = net.listArguments().reduce((n, name, i) => (inputs.has(name) || name.endsWith("_label") ? n : n + args[i].reduce((a, b) => a * b, 1)), 0);
  const count = params >= 1e5 ? `${(params / 1e6).toFixed(2)}M` : String(params);
  return `${title.padEnd(22)} ${String(args.length).padStart(4)} args ${String(aux.length).padStart(4)} aux ${count.padStart(7)} params  out ${outs.map(fmt).join(" ")}`;
}

export function main(): void {
  const ctx = defaultContext();
  console.log(`Kiln seed networks: shapes (inferShape), then one training step each on ${ctx} checked against reference()\n`);
  withNameManager(() => {
    console.log(describe("small classifier", smallClassifier(), { data: [32, 3, 160, 160] }));
    console.log(describe("Inception-ResNet-v2", inceptionResNetV2(), { data: [32, 3, 299, 299] }));
    console.log(describe("stacked LSTM", stackedLSTM(), { audio_data: [128, 49, 75] }));
    console.log(describe("regression loss", regressionLoss(), { data: [32, 2], label: [32, 1] }));
  });
  console.log("");

  const runs: [string, () => Symbol, Record<string, number[]>, number, string][] = [
    // Dropout draws different masks on each device; p = 0 keeps the comparison exact.
    ["small classifier", () => smallClassifier(12, 0), { data: [1, 3, 160, 160] }, 12, "1×3×160×160"],
    ["stacked LSTM", () => stackedLSTM(), { audio_data: [2, 49, 75] }, 0, "2×49×75"],
    ["regression loss", () => regressionLoss(), { data: [32, 2], label: [32, 1] }, 0, "32×2"],
  ];
  for (const [title, build, shapes, classes, size] of runs) {
    withNameManager(() => {
      const net = build();
      const dev = trainStep(net, shapes, classes, ctx);
      const oracle = ctx.deviceType === "reference" ? dev : trainStep(net, shapes, classes, reference());
      const check = ctx.deviceType === "reference" ? "" : `, max rel. grad diff vs reference ${maxRelDiff(dev.exe, oracle.exe).toExponential(1)}`;
      console.log(`${title.padEnd(17)} batch ${size.padEnd(12)} forward+backward ${dev.ms.toFixed(0).padStart(6)} ms${check}`);
      const summary = compiledSummary(dev.exe);
      if (summary) console.log(`${"".padEnd(17)} ${summary}`);
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
