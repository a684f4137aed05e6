#!/usr/bin/env node
/**
 * The `kiln` command line. It calls only the public API (../index.js).
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { sym, listOps, KilnError } from "../index.js";
import { parseShapeOptions, formatTable } from "./format.js";

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName("kiln")
    .usage("$0 <command> [options]")
    .command(
      "ops",
      "List the registered operators: name, aliases, fusion pattern, inputs and params",
      (y) => y.option("json", { type: "boolean", default: false, describe: "print JSON instead of a table" }),
      (argv) => {
        const ops = listOps()
          .filter((op) => !op.name.startsWith("_backward_"))
          .map((op) => ({
            name: op.name,
            aliases: [...(op.aliases ?? [])],
            pattern: op.pattern,
            inputs: op.variadic ? ["data[]"] : [...op.inputs],
            params: Object.entries(op.params).map(([k, spec]) => (spec.required ? k : `${k}=${spec.default === null ? "None" : spec.print(spec.default)}`)),
          }));
        if (argv.json) console.log(JSON.stringify(ops, null, 2));
        else
          console.log(
            formatTable(
              ["op", "aliases", "pattern", "inputs", "params"],
              ops.map((o) => [o.name, o.aliases.join(" "), o.pattern, o.inputs.join(" "), o.params.join(" ")]),
            ),
          );
      },
    )
    .command(
      "info <symbol>",
      "Load an MXNet symbol JSON file and print its arguments, aux states and outputs with inferred shapes",
      (y) =>
        y
          .positional("symbol", { type: "string", demandOption: true, describe: "path to a -symbol.json file" })
          .option("shape", { type: "string", array: true, default: [] as string[], describe: "input shape, e.g. data=1,3,224,224 (repeatable)" }),
      (argv) => {
        const net = sym.load(argv.symbol);
        const shapes = parseShapeOptions(argv.shape);
        const [argShapes, outShapes, auxShapes] = net.inferShapePartial(shapes);
        const show = (s: number[]): string => (s.length === 0 ? "?" : `(${s.map((d) => (d === 0 ? "?" : d)).join(", ")})`);
        const rows = [
          ...net.listArguments().map((n, i) => ["argument", n, show(argShapes[i])]),
          ...net.listAuxiliaryStates().map((n, i) => ["aux", n, show(auxShapes[i])]),
          ...net.listOutputs().map((n, i) => ["output", n, show(outShapes[i])]),
        ];
        console.log(`${argv.symbol}: ${net.graph().nodes.length} nodes`);
        console.log(formatTable(["kind", "name", "shape"], rows));
      },
    )
    .command(
      "bench [name]",
      "Run a benchmark program (or list them): prints a table and writes bench/results/<name>-<device>-<date>.json",
      (y) =>
        y
          .positional("name", { type: "string", describe: "elementwise, reductions, gemm_conv, end_to_end, memory, compile_time, memory_fusion, gemm_cpu, or all" })
          .option("quick", { type: "boolean", default: false, describe: "fewer and smaller cases" })
          .option("repeats", { type: "number", describe: "timed runs per case (default 20)" })
          .option("warmup", { type: "number", describe: "untimed runs first (default 3)" })
          .option("peers", { type: "boolean", default: true, describe: "run the Python peers (PyTorch, CuPy) when present; --no-peers skips them" })
          .option("out", { type: "string", describe: "folder for the JSON results (default bench/results)" }),
      async (argv) => {
        const { BENCHES, runBench } = await import("../bench/index.js");
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
    )
    .demandCommand(1, "name a command; see kiln --help")
    .strict()
    .fail((msg, err) => {
      // Errors from Kiln itself say what went wrong; usage errors also point at --help.
      if (err) {
        console.error(`kiln: ${err instanceof KilnError ? err.message : err.stack ?? err.message}`);
        process.exit(1);
      }
      console.error(`kiln: ${msg}\nRun kiln --help for the commands and their options.`);
      process.exit(2);
    })
    .help()
    .parseAsync();
}

main().catch((e: unknown) => {
  console.error(`kiln: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
