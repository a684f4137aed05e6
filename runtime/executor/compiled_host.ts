/**
 * Host backends: "interpret" evaluates each kernel's stage with te/interpret (float64, then
 * stored in the buffer's dtype), "cpp" calls the generated C++. Both run on one host arena
 * (an ArrayBuffer) with every pool buffer a typed view at its planned offset, so the memory
 * plan (in-place writes, shared blocks) is exercised exactly as on a device.
 */
import { DType } from "../../compiler/base/dtype.js";
import { shapeSize } from "../../compiler/base/shape.js";
import { KilnError } from "../../compiler/base/errors.js";
import { Tensor } from "../../compiler/ops/tensor.js";
import { evalStage } from "../../compiler/te/interpret.js";
import type { Program, ProgramStep } from "../../compiler/passes/program.js";
import type { Kernel } from "../../compiler/ir/kernel.js";
import { renderModule } from "../../compiler/codegen/index.js";
import { debugLevel } from "../kernel_sources.js";
import { HostArray, readHost, writeHost } from "../host_buffer.js";
import { cpuKernels, CpuKernel } from "../cpu/index.js";
import { Backend, ExecArrays, PreparedProgram, arrayOf } from "./compiled_backend.js";

function view(dtype: DType, buf: ArrayBuffer, offset: number, n: number): HostArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(buf, offset, n);
    case "float64":
      return new Float64Array(buf, offset, n);
    case "float16":
      return new Uint16Array(buf, offset, n);
    case "int32":
      return new Int32Array(buf, offset, n);
    case "int64":
      return new BigInt64Array(buf, offset, n);
    case "uint8":
      return new Uint8Array(buf, offset, n);
    case "int8":
      return new Int8Array(buf, offset, n);
  }
}

/** The host buffer of every argument of every step. */
function hostArgs(program: Program, arrays: ExecArrays, arena: ArrayBuffer): HostArray[][] {
  const bufferOf = (s: ProgramStep, k: number): HostArray => {
    const r = k < s.inputs.length ? s.inputs[k] : s.output;
    const t = k < s.inputs.length ? s.inputTypes[k] : s.outputType;
    if (r.kind === "pool") return view(t.dtype, arena, r.offset, shapeSize(t.shape));
    const a = arrayOf(arrays, r, `kernel ${s.kernel.name} (${s.outputName})`);
    if (a.dtype !== t.dtype || a.size !== shapeSize(t.shape))
      throw new KilnError(`kernel ${s.kernel.name}: bound array ${a} does not match the ${t.dtype}(${t.shape.join(",")}) the graph computes for ${s.outputName}`);
    return a.hostData() as HostArray;
  };
  return program.steps.map((s) => Array.from({ length: s.inputs.length + 1 }, (_, k) => bufferOf(s, k)));
}

function toTensor(buf: HostArray, dtype: DType, shape: readonly number[]): Tensor {
  const n = shapeSize(shape);
  const data = new Float64Array(n);
  if (dtype === "float64" || dtype === "float32" || dtype === "int32" || dtype === "uint8" || dtype === "int8") data.set(buf as Float64Array);
  else for (let i = 0; i < n; i++) data[i] = readHost(buf, dtype, i, false);
  return new Tensor(shape, data);
}

/**
 * Test instrumentation: when set, the interpreter reports every kernel it runs with its
 * inputs, the output before (for accumulating kernels) and after. Tests use it to check
 * generated code kernel by kernel on real values.
 * @internal
 */
export const interpretTrace: { record?: (kernel: Kernel, inputs: Tensor[], before: Tensor | undefined, after: Tensor) => void } = {};

/** Interprets each kernel's stage: the pipeline's meaning without a compiler. */
export const interpretBackend: Backend = {
  name: "interpret",
  prepare(program: Program, arrays: ExecArrays): PreparedProgram {
    const arena = new ArrayBuffer(program.memory.arenaBytes);
    const args = hostArgs(program, arrays, arena);
    return {
      program,
      source: "",
      launchOf: () => undefined,
      dispose() {},
      run(from, to) {
        for (let i = from; i < to; i++) {
          const s = program.steps[i];
          if (shapeSize(s.outputType.shape) === 0) continue;
          const bufs = args[i];
          const ins = s.inputTypes.map((t, k) => toTensor(bufs[k], t.dtype, t.shape));
          let out: Tensor;
          try {
            out = evalStage(s.kernel.stage, ins);
          } catch (err) {
            throw new KilnError(`interpret: kernel ${s.kernel.name} [${s.kernel.ops.join(", ")}] for ${s.outputName} failed: ${(err as Error).message}`);
          }
          const dst = bufs[s.inputs.length];
          const dt = s.outputType.dtype;
          const before = interpretTrace.record && s.kernel.accumulate ? toTensor(dst, dt, s.outputType.shape) : undefined;
          if (s.kernel.accumulate) for (let k = 0; k < out.size; k++) writeHost(dst, dt, k, readHost(dst, dt, k, false) + out.data[k], false);
          else if (dt === "float64" || dt === "float32") (dst as Float64Array).set(out.data);
          else for (let k = 0; k < out.size; k++) writeHost(dst, dt, k, out.data[k], false);
          interpretTrace.record?.(s.kernel, ins, before, toTensor(dst, dt, s.outputType.shape));
        }
      },
    };
  },
};

/** Generated C++ compiled (and cached) as one shared library per program. */
export const cppBackend: Backend = {
  name: "cpp",
  prepare(program: Program, arrays: ExecArrays): PreparedProgram {
    const mod = renderModule(program.kernels, "cpp");
    if (debugLevel() >= 3) process.stderr.write(`kiln: [${program.label}] cpp module (${program.kernels.length} kernels)\n${mod.source}\n`);
    const lib = cpuKernels.compile(mod.source);
    const byName = new Map(mod.kernels.map((k) => [k.name, k]));
    const arena = new ArrayBuffer(program.memory.arenaBytes);
    const args = hostArgs(program, arrays, arena);
    const calls: { fn: CpuKernel; args: HostArray[]; zero: boolean; empty: boolean }[] = program.steps.map((s, i) => {
      const info = byName.get(s.kernel.name)!;
      return { fn: lib.getFunction(info.name, info.params), args: args[i], zero: info.zeroOutput, empty: shapeSize(s.outputType.shape) === 0 };
    });
    return {
      program,
      source: mod.source,
      launchOf: () => undefined,
      dispose() {},
      run(from, to) {
        for (let i = from; i < to; i++) {
          const c = calls[i];
          if (c.empty) continue;
          if (c.zero) {
            const out = c.args[c.args.length - 1];
            if (out instanceof BigInt64Array) out.fill(0n);
            else out.fill(0);
          }
          c.fn.call(c.args);
        }
      },
    };
  },
};
