/**
 * The bench programs by name, for `kiln bench <name>` and `npm run bench -- <name>`. Each
 * program prints a table and writes bench/results/<name>-<device>-<date>.json; GPU programs on
 * a machine without a GPU say so and compile-check their CUDA kernels instead.
 */
import { pathToFileURL } from "node:url";
import { parseFlags } from "./harness.js";
import type { BenchFlags } from "./harness.js";

export interface BenchProgram {
  name: string;
  describe: string;
  /** Measures a GPU (on the CPU machine: compile checks only). */
  gpu: boolean;
}

export const BENCHES: readonly BenchProgram[] = [
  { name: "elementwise", gpu: true, describe: "fused elementwise/broadcast chains vs unfused, PyTorch eager, torch.compile, CuPy; GB/s vs the copy floor" },
  { name: "reductions", gpu: true, describe: "sums, means, softmax, BatchNorm and a LayerNorm-like graph vs the same peers and floor" },
  { name: "gemm_conv", gpu: true, describe: "FullyConnected and convolution shapes (fp32, TF32) vs cuBLAS/cuDNN through PyTorch" },
  { name: "end_to_end", gpu: true, describe: "training steps (MLP, LeNet, ResNet-18) and ResNet-50 inference, images/s vs PyTorch" },
  { name: "memory", gpu: true, describe: "ResNet-50 training memory: planned arena vs naive vs PyTorch, with and without mirroring" },
  { name: "cpu_inference", gpu: false, describe: "MNIST models and ResNet-18 inference on cpu() (generated C++) vs ONNX Runtime (onnxruntime-node): images/s, outputs compared" },
  { name: "compile_time", gpu: false, describe: "graph passes, code generation, NVRTC/C++ compile cold vs warm vs disk cache" },
  { name: "memory_fusion", gpu: false, describe: "planned memory and kernel counts of every shared model (compile only)" },
  { name: "gemm_cpu", gpu: false, describe: "the C++ GEMM schedule vs the plain reduction schedule on cpu()" },
];

/** Runs bench `name` with the command-line flags in `argv` (e.g. ["--quick"]). */
export async function runBench(name: string, argv: string[] = []): Promise<void> {
  const b = BENCHES.find((x) => x.name === name);
  if (!b) throw new Error(`no bench named "${name}" (have: ${BENCHES.map((x) => x.name).join(", ")})`);
  const mod = (await import(`./${name}.js`)) as { run(flags: BenchFlags): Promise<void> };
  await mod.run(parseFlags(argv));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === "--help") {
    console.log("npm run bench -- <name> [--quick] [--repeats N] [--warmup N] [--no-peers] [--out DIR]\n");
    for (const b of BENCHES) console.log(`  ${b.name.padEnd(14)} ${b.gpu ? "[gpu] " : "      "}${b.describe}`);
  } else
    for (const n of name === "all" ? BENCHES.map((b) => b.name) : [name]) {
      console.log(`\n=== bench ${n} ===`);
      await runBench(n, rest);
    }
}
