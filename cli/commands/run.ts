/**
 * `kiln run <symbol.json>`: inference on inputs read from files (IDX, NPY or raw float32),
 * in batches of the bound shape; prints top-k classes per row (or the values) and writes the
 * outputs as NPY or raw float32.
 */
import { extname } from "node:path";
import { performance } from "node:perf_hooks";
import type { Argv, CommandModule } from "yargs";
import { cpu, gpu, reference, KilnError } from "../../index.js";
import type { Context, Symbol } from "../../index.js";
import { UsageError, compactShape, formatShape, parseNamedOptions, parseShapeOptions, shapeSize } from "../format.js";
import { loadParams, loadSymbol, withShapeOption } from "../model.js";
import type { Params } from "../model.js";
import { readArrayFile, writeArrayFile } from "../tensor_io.js";
import type { FileArray } from "../tensor_io.js";

function builder(y: Argv) {
  return withShapeOption(
    y
      .positional("symbol", { type: "string", demandOption: true, describe: "path to a -symbol.json file" })
      .option("params", { type: "string", demandOption: true, describe: "the trained weights (.params: arg:NAME / aux:NAME arrays)" })
      .option("input", {
        type: "string",
        array: true,
        demandOption: true,
        describe: "name=file for each input: IDX (.idx, -ubyte, .gz), NPY (.npy) or raw little-endian float32 (anything else); a bare file goes to the first input",
      })
      .option("device", { type: "string", default: "cpu", describe: "cpu, gpu (gpu:N) or reference (the float64 interpreter)" })
      .option("batch-size", { type: "number", describe: "rows per forward pass (default: the first dimension of --shape, else up to 256)" })
      .option("limit", { type: "number", describe: "use only the first N rows of the inputs" })
      .option("scale", { type: "number", default: 1, describe: "divide input values by this first (255 for 8-bit pixels)" })
      .option("mean", { type: "number", default: 0, describe: "then subtract this" })
      .option("std", { type: "number", default: 1, describe: "then divide by this" })
      .option("top", { type: "number", default: 5, describe: "classes to show per row for classifier outputs (batch, classes)" })
      .option("rows", { type: "number", default: 20, describe: "rows to print (0: all)" })
      .option("labels", { type: "string", describe: "a file of true classes (IDX, NPY or raw float32): prints the top-1 and top-k accuracy" })
      .option("out", { type: "string", describe: "write the outputs: .npy as NPY, anything else as raw float32 (several outputs: FILE_<i>.ext)" }),
    "input shape with the batch first, e.g. data=100,1,28,28 (default: the input file's shape)",
  )
    .example("$0 run mnist-symbol.json --params mnist-0035.params --input data=t10k-images-idx3-ubyte.gz --shape data=100,1,28,28 --scale 255 --limit 500 --labels t10k-labels-idx1-ubyte.gz", "classify 500 MNIST digits, print the top 5 and the accuracy")
    .example("$0 run net-symbol.json --params net-0010.params --input data=x.npy --out y.npy", "write the outputs as NPY");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

export function parseDevice(device: string): Context {
  const d = device.trim().toLowerCase();
  if (d === "cpu") return cpu();
  if (d === "reference") return reference();
  const m = /^(?:gpu|cuda)(?:[:(](\d+)\)?)?$/.exec(d);
  if (m) return gpu(m[1] !== undefined ? Number(m[1]) : 0);
  throw new UsageError(`--device ${device}: expected cpu, gpu, gpu:N or reference`);
}

interface InputPlan {
  name: string;
  file: string;
  array: FileArray;
  /** Shape of one row (the bound shape without its batch dimension). */
  row: number[];
  rows: number;
}

/** Matches each input file to its bound shape and counts the rows. */
function planInputs(net: Symbol, params: Params, specs: readonly string[], shapeSpecs: readonly string[], limit?: number): { inputs: InputPlan[]; batch?: number } {
  const args = net.listArguments();
  const free = args.filter((a) => !(a in params.args));
  const files = parseNamedOptions(specs, "--input", free[0]);
  const shapes = parseShapeOptions(shapeSpecs);
  let batch: number | undefined;
  const inputs: InputPlan[] = [];
  for (const [name, file] of Object.entries(files)) {
    if (!args.includes(name)) throw new UsageError(`--input ${name}=...: the symbol has no argument ${name} (arguments without a value in --params: ${free.join(", ")})`);
    const array = readArrayFile(file);
    const given = shapes[name];
    const full = given ?? array.shape;
    if (!full || full.length === 0) throw new UsageError(`--input ${name}=${file}: raw float32 has no shape; give it with --shape ${name}=batch,d1,d2,...`);
    const row = full.slice(1);
    const per = shapeSize(row);
    if (per === 0 || array.values.length % per !== 0)
      throw new KilnError(`--input ${name}=${file}: its ${array.values.length} values (${array.format}${array.shape ? ` ${formatShape(array.shape)}` : ""}) are not whole rows of ${formatShape(row)} (${per} values each)`);
    let rows = array.values.length / per;
    if (limit !== undefined) {
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive integer, got ${limit}`);
      rows = Math.min(rows, limit);
    }
    if (given) batch ??= given[0];
    inputs.push({ name, file, array, row, rows });
  }
  for (const name of Object.keys(shapes)) if (!(name in files)) throw new UsageError(`--shape ${name}=...: no --input ${name}=FILE goes with it`);
  const rows = new Set(inputs.map((i) => i.rows));
  if (rows.size > 1) throw new KilnError(`the inputs hold different numbers of rows: ${inputs.map((i) => `${i.name} ${i.rows}`).join(", ")}`);
  return { inputs, batch };
}

/** Top-k classes of one row (ties: the lower index first). */
function topK(row: Float32Array, k: number): number[] {
  return Array.from(row.keys())
    .sort((a, b) => row[b] - row[a] || a - b)
    .slice(0, k);
}

export const runCommand: CommandModule<{}, Args> = {
  command: "run <symbol>",
  describe: "Run inference on inputs from files (IDX, NPY, raw float32) and print or write the outputs",
  builder,
  handler(argv) {
    const net = loadSymbol(argv.symbol);
    const params = loadParams(argv.params);
    const ctx = parseDevice(argv.device);
    const { inputs, batch: shapeBatch } = planInputs(net, params, argv.input, argv.shape, argv.limit);
    if (inputs.length === 0) throw new UsageError("give at least one --input name=FILE");
    const n = inputs[0].rows;
    const batch = argv.batchSize ?? shapeBatch ?? Math.min(n, 256);
    if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`the batch size must be a positive integer, got ${batch}`);

    const aux = new Set(net.listAuxiliaryStates());
    const fed = new Set(inputs.map((i) => i.name));
    const missing = net.listArguments().filter((a) => !fed.has(a) && !(a in params.args) && !/label$/i.test(a));
    if (missing.length) throw new KilnError(`${argv.params} has no value for ${missing.join(", ")}; give inputs with --input NAME=FILE`);
    const missingAux = [...aux].filter((a) => !(a in params.aux));
    if (missingAux.length) throw new KilnError(`${argv.params} has no aux state ${missingAux.join(", ")}`);

    const t0 = performance.now();
    const shapes = Object.fromEntries(inputs.map((i) => [i.name, [batch, ...i.row]]));
    const exe = net.simpleBind({ ctx, shapes, gradReq: "null" });
    exe.copyParamsFrom(params.args, params.aux, true);
    const bindMs = performance.now() - t0;

    const outNames = net.listOutputs();
    let outRow: number[][] = [];
    let outputs: Float32Array[] = [];
    const buffers = inputs.map((i) => new Float32Array(batch * shapeSize(i.row)));
    const { scale, mean, std } = argv;
    const t1 = performance.now();
    for (let start = 0; start < n; start += batch) {
      const valid = Math.min(batch, n - start);
      inputs.forEach((inp, k) => {
        const per = shapeSize(inp.row);
        const buf = buffers[k];
        const src = inp.array.values;
        const base = start * per;
        for (let i = 0; i < valid * per; i++) buf[i] = (src[base + i] / scale - mean) / std;
        buf.fill(0, valid * per);
        exe.argDict[inp.name].set(buf);
      });
      const res = exe.forward(false);
      if (start === 0) {
        outRow = res.map((o) => o.shape.slice(1));
        outputs = res.map((o) => new Float32Array(n * shapeSize(o.shape.slice(1))));
        res.forEach((o, i) => {
          if (o.shape[0] !== batch) throw new KilnError(`output ${outNames[i]} has shape ${formatShape(o.shape)}: its first dimension is not the batch (${batch}), so rows cannot be told apart`);
        });
      }
      res.forEach((o, i) => {
        const per = shapeSize(outRow[i]);
        outputs[i].set(o.toFloat64().subarray(0, valid * per), start * per);
      });
    }
    const runMs = performance.now() - t1;

    const lines: string[] = [];
    lines.push(
      `${argv.symbol} on ${ctx}: ${n} rows in ${Math.ceil(n / batch)} batches of ${batch} (${inputs.map((i) => `${i.name} ${i.array.format} ${formatShape([n, ...i.row])}`).join(", ")}); ` +
        `bind ${bindMs.toFixed(0)} ms, forward ${runMs.toFixed(0)} ms`,
    );
    const show = argv.rows === 0 ? n : Math.min(n, argv.rows);
    outputs.forEach((values, i) => {
      const per = shapeSize(outRow[i]);
      lines.push(`output ${outNames[i]} ${formatShape([n, ...outRow[i]])}`);
      const classifier = outRow[i].length === 1 && outRow[i][0] > 1;
      for (let r = 0; r < show; r++) {
        const row = values.subarray(r * per, (r + 1) * per);
        if (classifier) {
          const top = topK(row, Math.max(1, argv.top));
          lines.push(`  ${String(r).padStart(String(n - 1).length)}: ${top[0]}   top-${top.length}: ${top.map((c) => `${c} (${row[c].toPrecision(4)})`).join(", ")}`);
        } else {
          const vals = Array.from(row.subarray(0, 8), (v) => v.toPrecision(4)).join(", ");
          lines.push(`  ${r}: [${vals}${per > 8 ? `, … ${per - 8} more` : ""}]`);
        }
      }
      if (show < n) lines.push(`  … ${n - show} more rows (--rows 0 prints all; --out FILE writes them)`);
    });
    if (argv.labels) lines.push(accuracyLine(argv.labels, outputs[0], outRow[0], n, Math.max(1, argv.top)));
    if (argv.out) {
      const files = outputs.map((values, i) => {
        const file = outputs.length === 1 ? argv.out! : argv.out!.replace(new RegExp(`${extname(argv.out!).replace(".", "\\.")}$`), "") + `_${i}${extname(argv.out!)}`;
        writeArrayFile(file, [n, ...outRow[i]], values);
        return `${file} ${compactShape([n, ...outRow[i]])}`;
      });
      lines.push(`Wrote ${files.join(", ")}`);
    }
    console.log(lines.join("\n"));
  },
};

function accuracyLine(file: string, values: Float32Array, row: number[], n: number, k: number): string {
  if (row.length !== 1 || row[0] < 2) throw new KilnError(`--labels: the first output has rows of shape ${formatShape(row)}, not class scores`);
  const labels = readArrayFile(file).values;
  if (labels.length < n) throw new KilnError(`--labels ${file}: ${labels.length} labels for ${n} rows`);
  const c = row[0];
  let top1 = 0;
  let topk = 0;
  for (let r = 0; r < n; r++) {
    const top = topK(values.subarray(r * c, (r + 1) * c), k);
    if (top[0] === labels[r]) top1++;
    if (top.includes(labels[r])) topk++;
  }
  return `Accuracy: top-1 ${(top1 / n).toFixed(4)} (${top1}/${n}), top-${k} ${(topk / n).toFixed(4)} (${topk}/${n})`;
}
