/**
 * The CUDA backend: the program's kernels rendered as one CUDA module, compiled by NVRTC
 * (through the kernel cache), launched on the device's stream over one device arena. The
 * first run of a segment (forward, or backward) launches kernel by kernel; later runs replay
 * a CUDA graph captured from the same launches (pointers and launch shapes are fixed for the
 * executor's lifetime: inputs change by writing into the bound arrays, never by rebinding).
 */
import { shapeSize } from "../../compiler/base/shape.js";
import { DTYPE_BYTES } from "../../compiler/base/dtype.js";
import type { Program } from "../../compiler/passes/program.js";
import { renderModule } from "../../compiler/codegen/index.js";
import { debugLevel } from "../kernel_sources.js";
import { cuda, CudaGraph, CudaKernel } from "../cuda/index.js";
import { cudaDevice } from "../cuda/device.js";
import { NDArray } from "../ndarray.js";
import { gpu } from "../context.js";
import { Backend, ExecArrays, PreparedProgram, arrayOf } from "./compiled_backend.js";

export interface CudaBackendOptions {
  tf32?: boolean;
  fastMath?: boolean;
  /** Replay segments as CUDA graphs from their second run on (default true). */
  cudaGraphs?: boolean;
}

export function cudaBackend(deviceId: number, opts: CudaBackendOptions = {}): Backend {
  return {
    name: "cuda",
    prepare(program: Program, arrays: ExecArrays): PreparedProgram {
      const dev = cudaDevice(deviceId);
      const mod = renderModule(program.kernels, "cuda", { tf32: opts.tf32, fastMath: opts.fastMath });
      if (debugLevel() >= 3) process.stderr.write(`kiln: [${program.label}] cuda module (${program.kernels.length} kernels)\n${mod.source}\n`);
      const module = cuda.compile(mod.source, { device: deviceId });
      const byName = new Map(mod.kernels.map((k) => [k.name, k]));
      // The arena is an NDArray of bytes: its block returns to the allocator with it.
      const arena = new NDArray([Math.max(1, program.memory.arenaBytes)], "uint8", gpu(deviceId));
      const base = arena.devicePointer();
      const launches = program.steps.map((s) => {
        const info = byName.get(s.kernel.name)!;
        const ptrOf = (k: number): bigint => {
          const r = k < s.inputs.length ? s.inputs[k] : s.output;
          if (r.kind === "pool") return base + BigInt(r.offset);
          return arrayOf(arrays, r, `kernel ${s.kernel.name} (${s.outputName})`).devicePointer();
        };
        const ptrs = Array.from({ length: s.inputs.length + 1 }, (_, k) => ptrOf(k));
        const fn: CudaKernel = module.getFunction(info.name, info.params);
        return { fn, ptrs, launch: info.launch, zero: info.zeroOutput, empty: shapeSize(s.outputType.shape) === 0, out: ptrs[ptrs.length - 1] };
      });
      const outBytes = program.steps.map((s) => shapeSize(s.outputType.shape) * DTYPE_BYTES[s.outputType.dtype]);
      const issue = (from: number, to: number): void => {
        for (let i = from; i < to; i++) {
          const l = launches[i];
          if (l.empty || !l.launch) continue;
          if (l.zero) dev.cu.cuMemsetD8(l.out, 0, outBytes[i], dev.stream);
          l.fn.launch({ grid: l.launch.grid, block: l.launch.block, sharedBytes: l.launch.sharedBytes }, l.ptrs);
        }
      };
      const graphs = new Map<string, CudaGraph>();
      const ran = new Set<string>();
      return {
        program,
        source: mod.source,
        launchOf: (i) => launches[i].launch,
        run(from, to) {
          const key = `${from}:${to}`;
          const g = graphs.get(key);
          if (g) g.launch();
          else if (!ran.has(key) || opts.cudaGraphs === false) {
            // The first run goes kernel by kernel (errors name the kernel); the second captures.
            issue(from, to);
            ran.add(key);
          } else {
            const captured = cuda.capture(() => issue(from, to), { device: deviceId });
            graphs.set(key, captured);
            captured.launch();
          }
        },
        dispose() {
          for (const g of graphs.values()) g.destroy();
          graphs.clear();
          module.unload();
          arena.dispose();
        },
      };
    },
  };
}
