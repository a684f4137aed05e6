/**
 * Runs an exported model folder from TypeScript through Kiln's runtime, without the graph:
 * the schedule and weights are read from the folder; on cpu its kernels.cpp goes through the
 * kernel cache (compiled to a shared library once, then reused), on cuda its CUBIN or PTX is
 * loaded as is (kernels.cu through NVRTC only when no image fits the GPU). What the generated
 * model.ts wraps.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DType } from "../../compiler/base/dtype.js";
import { DTYPE_BYTES } from "../../compiler/base/dtype.js";
import { KilnError } from "../../compiler/base/errors.js";
import { shapeSize, shapeToString } from "../../compiler/base/shape.js";
import { cpuKernels } from "../cpu/index.js";
import type { CpuKernel } from "../cpu/index.js";
import { cuda, CudaModule } from "../cuda/index.js";
import type { CudaKernel } from "../cuda/index.js";
import { cudaDevice } from "../cuda/device.js";
import { NDArray } from "../ndarray.js";
import { gpu } from "../context.js";
import type { ExportSchedule, ExportTarget, TensorSpec } from "./schedule.js";
import { readScheduleFile } from "./schedule_file.js";
import { readWeightsFile } from "./weights_file.js";

/** The typed array of each dtype (float16 as its bits). */
export type TypedArrayOf<T extends DType> = T extends "float32"
  ? Float32Array
  : T extends "float64"
    ? Float64Array
    : T extends "float16"
      ? Uint16Array
      : T extends "int32"
        ? Int32Array
        : T extends "int64"
          ? BigInt64Array
          : T extends "uint8"
            ? Uint8Array
            : Int8Array;

export type ModelArray = Float32Array | Float64Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

const ARRAY_TYPES: Record<DType, { new (n: number): ModelArray; name: string }> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  int8: Int8Array,
};

export interface ExportedModel {
  readonly dir: string;
  readonly target: ExportTarget;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Runs the model; returns fresh arrays, one per output. */
  run(inputs: Readonly<Record<string, ArrayBufferView>>): Record<string, ModelArray>;
  dispose(): void;
}

export interface LoadExportedOptions {
  /** cuda target: the device (default 0). */
  device?: number;
}

const bytesOf = (v: ArrayBufferView): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** Source hash as the schedule records it. */
export function sourceHash(source: string): string {
  return createHash("sha256").update(source).digest("hex").slice(0, 16);
}

function checkInputs(s: ExportSchedule, inputs: Readonly<Record<string, ArrayBufferView>>): ArrayBufferView[] {
  if (typeof inputs !== "object" || inputs === null) throw new KilnError(`exported model: run() takes a record of input arrays (${s.inputs.map((t) => t.name).join(", ")})`);
  const extra = Object.keys(inputs).filter((k) => !s.inputs.some((t) => t.name === k));
  if (extra.length) throw new KilnError(`exported model: unknown input ${extra.join(", ")} (the inputs are ${s.inputs.map((t) => t.name).join(", ")})`);
  return s.inputs.map((t) => {
    const v = inputs[t.name];
    const want = ARRAY_TYPES[t.dtype];
    if (v === undefined) throw new KilnError(`exported model: input ${t.name} (${t.dtype}${shapeToString(t.shape)}) is missing`);
    if (!(v instanceof want)) throw new KilnError(`exported model: input ${t.name} must be a ${want.name} (${t.dtype}), got ${v?.constructor?.name ?? typeof v}`);
    const n = shapeSize(t.shape);
    if ((v as ModelArray).length !== n) throw new KilnError(`exported model: input ${t.name} has ${(v as ModelArray).length} values; ${t.dtype}${shapeToString(t.shape)} needs ${n}`);
    return v;
  });
}

/** The weights of the schedule as views of the weights file's data section. */
function weightViews(dir: string, s: ExportSchedule): { data: Uint8Array; offsets: number[] } {
  const file = readWeightsFile(join(dir, "weights.bin"));
  const byName = new Map(file.entries.map((e) => [e.name, e]));
  const offsets = s.weights.map((w) => {
    const e = byName.get(w.name);
    if (!e) throw new KilnError(`${join(dir, "weights.bin")}: no weight named ${w.name} (the schedule needs ${w.dtype}${shapeToString(w.shape)})`);
    if (e.dtype !== w.dtype || shapeToString(e.shape) !== shapeToString(w.shape))
      throw new KilnError(`${join(dir, "weights.bin")}: ${w.name} is ${e.dtype}${shapeToString(e.shape)}, the schedule expects ${w.dtype}${shapeToString(w.shape)}`);
    return e.offset;
  });
  return { data: file.data, offsets };
}

function readSource(dir: string, file: string, s: ExportSchedule): string {
  const p = join(dir, file);
  if (!existsSync(p)) throw new KilnError(`exported model: ${p} is missing`);
  const source = readFileSync(p, "utf8");
  if (sourceHash(source) !== s.sourceHash)
    throw new KilnError(`exported model: ${p} does not match schedule.txt (hash ${sourceHash(source)}, the schedule was made with ${s.sourceHash})`);
  return source;
}

function loadCpu(dir: string, s: ExportSchedule): ExportedModel {
  const lib = cpuKernels.compile(readSource(dir, "kernels.cpp", s));
  const fns: CpuKernel[] = s.kernels.map((k) => lib.getFunction(k.name, Array.from({ length: k.params }, () => "ptr" as const)));
  const arena = new Uint8Array(Math.max(1, s.arenaBytes));
  const { data, offsets } = weightViews(dir, s);
  let disposed = false;
  return {
    dir,
    target: "cpu",
    inputs: s.inputs,
    outputs: s.outputs,
    run(inputs) {
      if (disposed) throw new KilnError(`exported model ${dir}: run() after dispose()`);
      const ins = checkInputs(s, inputs);
      const outs = s.outputs.map((t) => new ARRAY_TYPES[t.dtype](shapeSize(t.shape)));
      for (const step of s.steps) {
        if (step.outBytes === 0) continue;
        const args = step.args.map((r): ArrayBufferView => {
          if (r.kind === "arena") return arena.subarray(r.offset);
          if (r.kind === "input") return ins[r.index];
          if (r.kind === "weight") return data.subarray(offsets[r.index]);
          return outs[r.index];
        });
        if (s.kernels[step.kernel].zero) new Uint8Array(args[args.length - 1].buffer, args[args.length - 1].byteOffset, step.outBytes).fill(0);
        fns[step.kernel].call(args);
      }
      return Object.fromEntries(s.outputs.map((t, i) => [t.name, outs[i]]));
    },
    dispose() {
      disposed = true;
    },
  };
}

/** The image kiln_model.c would pick for compute capability `cc`, as a file of `dir`. */
export function pickCudaImage(dir: string, cc: readonly [number, number]): { file: string; kind: "cubin" | "ptx"; target: string } | undefined {
  const [major, minor] = cc;
  for (let mi = minor; mi >= 0; mi--) {
    const file = join(dir, `kernels.sm_${major}${mi}.cubin`);
    if (existsSync(file)) return { file, kind: "cubin", target: `sm_${major}${mi}` };
  }
  for (let v = major * 10 + minor; v >= 50; v--) {
    const file = join(dir, `kernels.compute_${v}.ptx`);
    if (existsSync(file)) return { file, kind: "ptx", target: `compute_${v}` };
  }
  return undefined;
}

function loadCuda(dir: string, s: ExportSchedule, deviceId: number): ExportedModel {
  const dev = cudaDevice(deviceId);
  const picked = pickCudaImage(dir, dev.props.computeCapability);
  const module = picked
    ? new CudaModule(dev, { bytes: readFileSync(picked.file), kind: picked.kind, target: picked.target, key: `export:${picked.file}`, hit: "disk" })
    : cuda.compile(readSource(dir, "kernels.cu", s), { device: deviceId });
  const fns: CudaKernel[] = s.kernels.map((k) => module.getFunction(k.name, Array.from({ length: k.params }, () => "ptr" as const)));
  const ctx = gpu(deviceId);
  const { data, offsets } = weightViews(dir, s);
  const weights = new NDArray([Math.max(1, data.byteLength)], "uint8", ctx);
  if (data.byteLength) dev.upload(weights.devicePointer(), data);
  const arena = new NDArray([Math.max(1, s.arenaBytes)], "uint8", ctx);
  const inArrays = s.inputs.map((t) => new NDArray([Math.max(1, shapeSize(t.shape) * DTYPE_BYTES[t.dtype])], "uint8", ctx));
  const outArrays = s.outputs.map((t) => new NDArray([Math.max(1, shapeSize(t.shape) * DTYPE_BYTES[t.dtype])], "uint8", ctx));
  const ptrOf = (r: ExportSchedule["steps"][number]["args"][number]): bigint =>
    r.kind === "arena"
      ? arena.devicePointer() + BigInt(r.offset)
      : r.kind === "weight"
        ? weights.devicePointer() + BigInt(offsets[r.index])
        : (r.kind === "input" ? inArrays : outArrays)[r.index].devicePointer();
  const launches = s.steps.map((step) => ({ step, ptrs: step.args.map(ptrOf), kernel: s.kernels[step.kernel], fn: fns[step.kernel] }));
  let disposed = false;
  return {
    dir,
    target: "cuda",
    inputs: s.inputs,
    outputs: s.outputs,
    run(inputs) {
      if (disposed) throw new KilnError(`exported model ${dir}: run() after dispose()`);
      const ins = checkInputs(s, inputs);
      ins.forEach((v, i) => dev.upload(inArrays[i].devicePointer(), bytesOf(v)));
      for (const l of launches) {
        if (l.step.outBytes === 0 || !l.kernel.launch) continue;
        if (l.kernel.zero) dev.cu.cuMemsetD8(l.ptrs[l.ptrs.length - 1], 0, l.step.outBytes, dev.stream);
        l.fn.launch({ grid: l.kernel.launch.grid, block: l.kernel.launch.block, sharedBytes: l.kernel.launch.sharedBytes }, l.ptrs);
      }
      const outs = s.outputs.map((t, i) => {
        const a = new ARRAY_TYPES[t.dtype](shapeSize(t.shape));
        dev.download(bytesOf(a), outArrays[i].devicePointer());
        return a;
      });
      return Object.fromEntries(s.outputs.map((t, i) => [t.name, outs[i]]));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      module.unload();
      for (const a of [weights, arena, ...inArrays, ...outArrays]) a.dispose();
    },
  };
}

/** Loads the exported model in `dir` (schedule.txt, weights.bin and the kernels of its target). */
export function loadExportedModel(dir: string, opts: LoadExportedOptions = {}): ExportedModel {
  const s = readScheduleFile(join(dir, "schedule.txt"));
  return s.target === "cpu" ? loadCpu(dir, s) : loadCuda(dir, s, opts.device ?? 0);
}
