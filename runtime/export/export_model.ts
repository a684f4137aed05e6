/**
 * exportModel: a symbol, its weights and fixed input shapes → a folder that builds and runs
 * without Node.js or Kiln. The inference program (forward only, no gradients) is compiled as
 * the compiled executor would compile it, and written out as data (schedule.txt,
 * weights.bin), kernel source (kernels.cpp, or kernels.cu with CUBIN/PTX images), a small C
 * API (kiln_model.h/.c) with an example, build files, and a typed TypeScript wrapper.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Symbol } from "../../compiler/symbol/symbol.js";
import { sym } from "../../compiler/symbol/sym.js";
import type { DType } from "../../compiler/base/dtype.js";
import { DTYPE_BYTES } from "../../compiler/base/dtype.js";
import { KilnError } from "../../compiler/base/errors.js";
import { shapeSize, shapeToString } from "../../compiler/base/shape.js";
import { compileSymbol } from "../executor/compile_symbol.js";
import type { NDArray } from "../ndarray.js";
import { ExportParams, resolveParams } from "./params.js";
import { ExportTarget, TensorSpec, buildSchedule } from "./schedule.js";
import { formatSchedule } from "./schedule_file.js";
import { encodeWeights, WeightEntry } from "./weights_file.js";
import { renderExportTemplate } from "./templates.js";
import { CudaImageFile, DEFAULT_ARCHS, buildCudaImages, parseArch } from "./cuda_images.js";
import { sourceHash } from "./load.js";
import { writeWrapper } from "./wrapper.js";

export interface ExportOptions {
  /** Shapes of the model's inputs (every argument named here is an input; the others are weights). */
  shapes: Record<string, readonly number[]>;
  /** The weights: a .params path, a record of NDArrays (`arg:`/`aux:` prefixed or plain names), or { argParams, auxParams }. */
  params: ExportParams;
  target: ExportTarget;
  /** The folder to write (created when missing; files of an earlier export are replaced). */
  out: string;
  /** cuda: architectures to write CUBIN for (default sm_80, sm_90); PTX is written for the oldest. */
  archs?: readonly string[];
  /** Element types of inputs (default float32, or the dtype of the weights). */
  typeDict?: Record<string, DType>;
  /** cuda: the nvcc to use; false uses NVRTC or writes source only. Default: found on PATH. */
  nvcc?: string | false;
  /** The module model.ts imports loadExportedModel from (default "kiln"). */
  kilnModule?: string;
  /** The model's name in comments and the README (default: the symbol file's name, or "model"). */
  name?: string;
  /** Fuse kernels (default true). */
  fuse?: boolean;
}

export interface ExportResult {
  dir: string;
  target: ExportTarget;
  /** Files written, relative to dir. */
  files: string[];
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  weights: TensorSpec[];
  kernels: number;
  steps: number;
  arenaBytes: number;
  weightsBytes: number;
  /** cuda: the kernel images written. */
  images: CudaImageFile[];
  /** What the user should know: images not built, arguments left out. */
  notes: string[];
}

function checkShapes(shapes: unknown): Record<string, number[]> {
  if (typeof shapes !== "object" || shapes === null || Array.isArray(shapes))
    throw new KilnError(`export: shapes must be a record of input shapes, e.g. { data: [1, 1, 28, 28] }`);
  const out: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(shapes as Record<string, unknown>)) {
    if (!Array.isArray(v) || v.length === 0 || v.some((d) => !Number.isInteger(d) || d <= 0))
      throw new KilnError(`export: the shape of ${k} must be a non-empty list of positive integers, got ${JSON.stringify(v)}`);
    out[k] = [...(v as number[])];
  }
  if (Object.keys(out).length === 0) throw new KilnError("export: shapes names no input (give e.g. { data: [1, 1, 28, 28] })");
  return out;
}

function loadSymbol(s: Symbol | string): { net: Symbol; label: string } {
  if (typeof s !== "string") return { net: s, label: "model" };
  if (!fs.existsSync(s)) throw new KilnError(`export: the symbol file ${s} does not exist`);
  return { net: sym.load(s), label: path.basename(s).replace(/(-symbol)?\.json$/, "") };
}

/** Exports the inference program of `symbol` (a Symbol or a -symbol.json path) into `opts.out`. */
export async function exportModel(symbol: Symbol | string, opts: ExportOptions): Promise<ExportResult> {
  if (opts.target !== "cpu" && opts.target !== "cuda") throw new KilnError(`export: target must be "cpu" or "cuda", got ${JSON.stringify(opts.target)}`);
  if (typeof opts.out !== "string" || opts.out === "") throw new KilnError("export: out must name a folder");
  const shapes = checkShapes(opts.shapes);
  const archs = opts.archs ?? DEFAULT_ARCHS;
  archs.forEach(parseArch);
  const { net, label: fileLabel } = loadSymbol(symbol);
  const label = opts.name ?? fileLabel;
  const params = resolveParams(opts.params);
  const argNames = net.listArguments();
  const auxNames = net.listAuxiliaryStates();
  for (const k of Object.keys(shapes))
    if (!argNames.includes(k)) throw new KilnError(`export: shapes names ${k}, which is not an argument of the symbol (arguments: ${argNames.join(", ")})`);
  const inputNames = new Set(Object.keys(shapes));
  const valueOf = (name: string, aux: boolean): NDArray | undefined => (aux ? params.aux.get(name) : params.args.get(name));
  // Weights carry their dtype into the program; inputs default to float32.
  const typeDict: Record<string, DType> = {};
  argNames.forEach((n) => !inputNames.has(n) && valueOf(n, false) && (typeDict[n] = valueOf(n, false)!.dtype));
  auxNames.forEach((n) => valueOf(n, true) && (typeDict[n] = valueOf(n, true)!.dtype));
  Object.assign(typeDict, opts.typeDict ?? {});

  const compiled = compileSymbol(net, { shapes, typeDict, target: opts.target === "cpu" ? "cpp" : "cuda", fuse: opts.fuse });
  const module = compiled.module!;
  const [argShapes, outShapes, auxShapes] = net.inferShape(shapes);
  const [argTypes, outTypes, auxTypes] = net.inferTypePartial(typeDict);
  const f32 = (t: DType | undefined): DType => t ?? "float32";
  const hash = sourceHash(module.source);
  const outputNames = net.listOutputs();
  const schedule = buildSchedule(compiled.program, module, opts.target, hash, {
    argNames,
    auxNames,
    inputNames,
    outputs: outputNames.map((name, i) => ({ name, dtype: f32(outTypes[i]), shape: [...outShapes[i]] })),
    argTypes: argNames.map((_, i) => ({ dtype: f32(argTypes[i]), shape: argShapes[i] })),
    auxTypes: auxNames.map((_, i) => ({ dtype: f32(auxTypes[i]), shape: auxShapes[i] })),
  });

  // Every weight the program reads must be given, with its shape and dtype.
  const auxSet = new Set(auxNames);
  const missing = schedule.weights.filter((w) => !valueOf(w.name, auxSet.has(w.name) && !argNames.includes(w.name)));
  if (missing.length)
    throw new KilnError(
      `export: ${params.source} has no value for ${missing.map((w) => `${w.name} ${w.dtype}${shapeToString(w.shape)}`).join(", ")}` +
        ` (give them in params, or name them in shapes to make them inputs)`,
    );
  const entries: WeightEntry[] = schedule.weights.map((w) => {
    const a = valueOf(w.name, auxSet.has(w.name) && !argNames.includes(w.name))!;
    if (shapeToString(a.shape) !== shapeToString(w.shape))
      throw new KilnError(`export: ${params.source}: ${w.name} has shape ${shapeToString(a.shape)}, the model needs ${shapeToString(w.shape)}`);
    if (a.dtype !== w.dtype) throw new KilnError(`export: ${params.source}: ${w.name} is ${a.dtype}, the model computes it as ${w.dtype}`);
    return { name: w.name, dtype: w.dtype, shape: w.shape, bytes: a.toBytes() };
  });

  const dir = path.resolve(opts.out);
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (file: string, content: string | Uint8Array): void => {
    fs.writeFileSync(path.join(dir, file), content);
    files.push(file);
  };
  const cuda = opts.target === "cuda";
  const weightsBin = encodeWeights(entries);
  write(cuda ? "kernels.cu" : "kernels.cpp", module.source);
  if (!cuda) write("kernel_table.cpp", renderExportTemplate("kernel_table.cpp", { kernels: schedule.kernels.map((k) => k.name), sourceHash: hash }));
  write("schedule.txt", formatSchedule(schedule, label));
  write("weights.bin", weightsBin);
  const archNumbers = [...new Set(archs.map(parseArch))].sort((a, b) => a - b);
  const ctx = { target: opts.target, cuda, label, archs: archNumbers.join(" "), archsList: archNumbers.join(";") };
  write("kiln_model.h", renderExportTemplate("kiln_model.h", ctx));
  write("kiln_model.c", renderExportTemplate("kiln_model.c", ctx));
  write("example.c", renderExportTemplate("example.c", ctx));
  write("Makefile", renderExportTemplate("Makefile", ctx));
  write("CMakeLists.txt", renderExportTemplate("CMakeLists.txt", ctx));

  const notes: string[] = [];
  let images: CudaImageFile[] = [];
  if (cuda) {
    const built = await buildCudaImages(dir, module.source, archs, opts.nvcc);
    images = built.images;
    files.push(...images.map((i) => i.file));
    if (built.note) notes.push(built.note);
  }
  const unusedInputs = [...inputNames].filter((n) => !schedule.inputs.some((t) => t.name === n));
  if (unusedInputs.length) notes.push(`inputs the inference program does not read, left out: ${unusedInputs.join(", ")}`);
  files.push(...(await writeWrapper(dir, schedule, { kilnModule: opts.kilnModule ?? "kiln", label })));
  const spec = (ts: readonly TensorSpec[]): { name: string; dtype: DType; shape: string }[] =>
    ts.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape.join(",") }));
  write(
    "README.md",
    renderExportTemplate("README.md", {
      ...ctx,
      kernelCount: schedule.kernels.length,
      stepCount: schedule.steps.length,
      arenaBytes: schedule.arenaBytes,
      weightCount: schedule.weights.length,
      weightsBytes: entries.reduce((n, e) => n + shapeSize(e.shape) * DTYPE_BYTES[e.dtype], 0),
      inputs: spec(schedule.inputs),
      outputs: spec(schedule.outputs),
      images,
      imageNote: notes.find((n) => n.includes("kernels.cu")) ?? "",
    }),
  );
  return {
    dir,
    target: opts.target,
    files,
    inputs: schedule.inputs,
    outputs: schedule.outputs,
    weights: schedule.weights,
    kernels: schedule.kernels.length,
    steps: schedule.steps.length,
    arenaBytes: schedule.arenaBytes,
    weightsBytes: weightsBin.byteLength,
    images,
    notes,
  };
}
