/** `kiln export <symbol.json>`: the inference program as a folder that builds and runs without Node.js (runtime/export). */
import type { Argv, CommandModule } from "yargs";
import { exportCommand as runExport } from "../../index.js";

function builder(y: Argv) {
  return y
    .positional("symbol", { type: "string", demandOption: true, describe: "path to a -symbol.json file" })
    .option("params", { type: "string", describe: "the .params file with the weights (arg:/aux: names)" })
    .option("shape", { type: "string", array: true, demandOption: true, describe: "input shape, e.g. data=1,1,28,28 (repeatable; every named argument is an input)" })
    .option("target", { choices: ["cpu", "cuda"] as const, default: "cpu" as const, describe: "cpu: C++ kernels; cuda: CUDA source with CUBIN (nvcc) and PTX" })
    .option("out", { type: "string", demandOption: true, describe: "the folder to write" })
    .option("arch", { type: "string", array: true, describe: "cuda: architectures for CUBIN (default sm_80 sm_90)" })
    .example("$0 export mnist-symbol.json --params mnist-0035.params --shape data=1,1,28,28 --out mnist-export", "then: cd mnist-export && make && ./example")
    .example("$0 export resnet-18-symbol.json --params r18.params --shape data=1,3,224,224 --target cuda --arch sm_90 --out r18-cuda", "a CUDA export");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

export const exportCommand: CommandModule<{}, Args> = {
  command: "export <symbol>",
  describe: "Export the inference program as a folder (kernels, schedule, weights.bin, C API, Makefile, CMakeLists.txt, typed TS wrapper)",
  builder,
  async handler(argv) {
    await runExport({ symbol: argv.symbol, params: argv.params, shape: argv.shape, target: argv.target, out: argv.out, arch: argv.arch });
  },
};
