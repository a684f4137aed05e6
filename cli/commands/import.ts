/** `kiln import <model.onnx> --out prefix`: an ONNX model as MXNet files (prefix-symbol.json, prefix-0000.params). */
import { readFileSync } from "node:fs";
import type { Argv, CommandModule } from "yargs";
import { fromONNX, saveCheckpoint, KilnError } from "../../index.js";
import { formatShape, formatTable } from "../format.js";
import { requireFile } from "../model.js";

function builder(y: Argv) {
  return y
    .positional("model", { type: "string", demandOption: true, describe: "an ONNX file (.onnx)" })
    .option("out", { type: "string", demandOption: true, describe: "output prefix: writes <prefix>-symbol.json and <prefix>-<epoch>.params" })
    .option("epoch", { type: "number", default: 0, describe: "the epoch number in the .params file name" })
    .example("$0 import resnet18.onnx --out r18", "writes r18-symbol.json and r18-0000.params, loadable by Kiln and MXNet");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

export const importCommand: CommandModule<{}, Args> = {
  command: "import <model>",
  describe: "Import an ONNX model and write it as MXNet files (symbol JSON + .params)",
  builder,
  handler(argv) {
    requireFile(argv.model, "ONNX model");
    if (!Number.isInteger(argv.epoch) || argv.epoch < 0) throw new KilnError(`import: --epoch must be a non-negative integer, got ${argv.epoch}`);
    const r = fromONNX(new Uint8Array(readFileSync(argv.model)));
    saveCheckpoint(argv.out, argv.epoch, r.symbol, r.argParams, r.auxParams);
    const params = Object.values(r.argParams).reduce((n, a) => n + a.size, 0);
    console.log(`${argv.model}: ${r.symbol.graph().nodes.length} nodes, ${Object.keys(r.argParams).length} parameters (${params} values), ${Object.keys(r.auxParams).length} aux states`);
    console.log(formatTable(["kind", "name", "shape"], [...r.inputs.map((i) => ["input", i.name, formatShape(i.shape)]), ...r.outputs.map((o) => ["output", o.name, ""])]));
    console.log(`wrote ${argv.out}-symbol.json and ${argv.out}-${String(argv.epoch).padStart(4, "0")}.params`);
  },
};
