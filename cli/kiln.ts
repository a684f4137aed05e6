#!/usr/bin/env node
/**
 * The `kiln` command line: one module per command in cli/commands, each a yargs CommandModule.
 * Commands call the public API (../index.js); `bench` and `train` import their programs at run
 * time. Errors Kiln raises on purpose print their message and exit 1; usage errors exit 2.
 */
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { KilnError } from "../index.js";
import { UsageError } from "./format.js";
import { opsCommand } from "./commands/ops.js";
import { infoCommand } from "./commands/info.js";
import { summaryCommand } from "./commands/summary.js";
import { vizCommand } from "./commands/viz.js";
import { compileCommand } from "./commands/compile.js";
import { runCommand } from "./commands/run.js";
import { trainCommand } from "./commands/train.js";
import { benchCommand } from "./commands/bench.js";
import { exportCommand } from "./commands/export.js";
import { importCommand } from "./commands/import.js";

function report(err: unknown): never {
  if (err instanceof UsageError) {
    console.error(`kiln: ${err.message}\nRun kiln <command> --help for the options.`);
    process.exit(2);
  }
  if (err instanceof KilnError) console.error(`kiln: ${err.message}`);
  else if (err instanceof Error) console.error(`kiln: ${process.env.KILN_DEBUG ? (err.stack ?? err.message) : err.message}`);
  else console.error(`kiln: ${String(err)}`);
  process.exit(1);
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName("kiln")
    .usage("$0 <command> [options]")
    .command(opsCommand)
    .command(infoCommand)
    .command(summaryCommand)
    .command(vizCommand)
    .command(compileCommand)
    .command(runCommand)
    .command(trainCommand)
    .command(exportCommand)
    .command(importCommand)
    .command(benchCommand)
    .demandCommand(1, "name a command; see kiln --help")
    .strict()
    .fail((msg, err) => {
      if (err) report(err);
      console.error(`kiln: ${msg}\nRun kiln --help for the commands and their options.`);
      process.exit(2);
    })
    .example("$0 info", "devices, CUDA and NVRTC, the C++ compiler, the kernel cache")
    .example("$0 summary resnet-18-symbol.json --shape data=1,3,224,224", "layers and parameter counts")
    .example("$0 viz resnet-18-symbol.json --shape data=1,3,224,224 -o r18.html", "an interactive picture")
    .example("$0 <command> --help", "a command's options and examples")
    .epilogue("Environment: KILN_DEVICE, KILN_CACHE_DIR, KILN_CACHE=0, KILN_CXX, KILN_CXXFLAGS, KILN_CUDA_PATH, KILN_NVRTC_PATH, KILN_DEBUG=1..4")
    .wrap(Math.min(120, process.stdout.columns || 100))
    .help()
    .alias("help", "h")
    .version(false)
    .parseAsync();
}

main().catch(report);
