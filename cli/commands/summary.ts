/** `kiln summary <symbol.json>`: a per-layer table with output shapes and exact parameter counts. */
import type { Argv, CommandModule } from "yargs";
import { formatBytes, formatCount, formatShape, formatTable } from "../format.js";
import { inputShapes, loadParams, loadSymbol, withShapeOption } from "../model.js";
import { summarize, NetworkSummary } from "../layers.js";

function builder(y: Argv) {
  return withShapeOption(
    y
      .positional("symbol", { type: "string", demandOption: true, describe: "path to a -symbol.json file" })
      .option("params", { type: "string", describe: "a .params file: shapes of the arguments it holds are used for inference" })
      .option("json", { type: "boolean", default: false, describe: "print the summary as JSON" }),
  )
    .example("$0 summary resnet-18-symbol.json --shape data=1,3,224,224", "layers, output shapes, parameters per layer and in total")
    .example("$0 summary mnist-symbol.json --shape data=1,1,28,28 --json", "the same as JSON")
    .epilogue(
      "Parameters are counted from inferred shapes: every argument other than the inputs (data, labels) once, " +
        "by the first layer that reads it (shared weights are counted once), aux states (BatchNorm's moving mean/var) apart.",
    );
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

function toJSON(s: NetworkSummary): unknown {
  return {
    inputs: s.inputs.map((i) => ({ name: i.name, shape: i.shape ?? null, label: i.label })),
    layers: s.layers.map((l) => ({
      name: l.name,
      op: l.op,
      description: l.description,
      outputShapes: l.outputShapes.map((x) => x ?? null),
      inputs: l.inputs.map((i) => (i.index ? `${i.name}[${i.index}]` : i.name)),
      params: l.params.map((p) => ({ name: p.name, role: p.role, kind: p.kind, shape: p.shape ?? null, size: p.size, ...(p.sharedWith ? { sharedWith: p.sharedWith } : {}) })),
      paramCount: l.paramCount,
      auxCount: l.auxCount,
    })),
    outputs: s.outputs.map((o) => ({ name: o.name, shape: o.shape ?? null })),
    trainableParams: s.trainableParams,
    auxParams: s.auxParams,
    totalParams: s.totalParams,
    shared: s.shared,
    complete: s.complete,
  };
}

export function formatSummary(s: NetworkSummary): string {
  const rows: string[][] = [];
  for (const i of s.inputs) rows.push([i.name, i.label ? "Label" : "Input", "", formatShape(i.shape), "0", "", ""]);
  for (const l of s.layers) {
    const sharedNote = l.params.filter((p) => p.sharedWith).map((p) => `${p.name} shared with ${p.sharedWith}`);
    rows.push([
      l.name,
      l.op,
      [l.description, ...sharedNote].filter(Boolean).join("; "),
      l.outputShapes.map(formatShape).join(" "),
      formatCount(l.paramCount),
      l.auxCount ? formatCount(l.auxCount) : "",
      l.inputs.map((i) => (i.index ? `${i.name}[${i.index}]` : i.name)).join(", "),
    ]);
  }
  const lines = [formatTable(["Layer", "Type", "Details", "Output Shape", "Params", "Aux", "Inputs"], rows, [4, 5])];
  lines.push("");
  lines.push(`Layers: ${s.layers.length} (${s.inputs.length} inputs: ${s.inputs.map((i) => i.name).join(", ")})`);
  lines.push(`Trainable params: ${formatCount(s.trainableParams)} (${formatBytes(4 * s.trainableParams)} as float32)`);
  lines.push(`Aux states: ${formatCount(s.auxParams)} (not trained: BatchNorm moving statistics and the like)`);
  lines.push(`Total params: ${formatCount(s.totalParams)}`);
  if (s.shared.length) lines.push(`Shared arguments (counted once): ${s.shared.join(", ")}`);
  lines.push(`Outputs: ${s.outputs.map((o) => `${o.name} ${formatShape(o.shape)}`).join(", ")}`);
  if (!s.complete) lines.push("Some shapes are unknown (?): give every input's shape with --shape name=d1,d2,...");
  return lines.join("\n");
}

export const summaryCommand: CommandModule<{}, Args> = {
  command: "summary <symbol>",
  describe: "Per-layer table of a network (output shapes, parameters, inputs) with exact parameter totals",
  builder,
  handler(argv) {
    const net = loadSymbol(argv.symbol);
    const params = argv.params ? loadParams(argv.params) : undefined;
    const s = summarize(net, inputShapes(net, argv.shape, params));
    console.log(argv.json ? JSON.stringify(toJSON(s), null, 2) : formatSummary(s));
  },
};
