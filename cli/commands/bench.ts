/** `kiln bench [name]`: runs the benchmark programs of bench/ (imported at run time: they are not part of the public API). */
import type { Argv, CommandModule } from "yargs";
import { formatTable } from "../format.js";

function builder(y: Argv) {
  return y
    .positional("name", { type: "string", describe: "elementwise, reductions, gemm_conv, end_to_end, memory, compile_time, cpu_inference, memory_fusion, gemm_cpu, or all" })
    .option("quick", { type: "boolean", default: false, describe: "fewer and smaller cases" })
    .option("repeats", { type: "number", describe: "timed runs per case (default 20)" })
    .option("warmup", { type: "number", describe: "untimed runs first (default 3)" })
    .option("peers", { type: "boolean", default: true, describe: "run the Python peers (PyTorch, CuPy) when present; --no-peers skips them" })
    .option("out", { type: "string", describe: "folder for the JSON results (default bench/results)" })
    .example("$0 bench", "list the benchmarks")
    .example("$0 bench elementwise --quick", "run one benchmark with fewer, smaller cases");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

export const benchCommand: CommandModule<{}, Args> = {
  command: "bench [name]",
  describe: "Run a benchmark program (or list them): prints a table and writes bench/results/<name>-<device>-<date>.json",
  builder,
  async handler(argv) {
    const { BENCHES, runBench } = await import("../../bench/index.js");
    if (!argv.name) {
      console.log(formatTable(["bench", "device", "measures"], BENCHES.map((b) => [b.name, b.gpu ? "gpu" : "cpu", b.describe])));
      return;
    }
    const flags = [
      ...(argv.quick ? ["--quick"] : []),
      ...(argv.repeats !== undefined ? ["--repeats", String(argv.repeats)] : []),
      ...(argv.warmup !== undefined ? ["--warmup", String(argv.warmup)] : []),
      ...(argv.peers ? [] : ["--no-peers"]),
      ...(argv.out ? ["--out", argv.out] : []),
    ];
    for (const name of argv.name === "all" ? BENCHES.map((b) => b.name) : [argv.name]) await runBench(name, flags);
  },
};
