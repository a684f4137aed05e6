/**
 * `kiln export <symbol.json> --params f --shape data=1,1,28,28 --target cpu|cuda --out dir`:
 * the command-line face of exportModel. cli/kiln.ts parses the options with yargs and calls
 * exportCommand with them.
 */
import { KilnError } from "../../compiler/base/errors.js";
import { exportModel, ExportResult } from "./export_model.js";
import type { ExportTarget } from "./schedule.js";

export interface ExportCommandArgs {
  /** The -symbol.json file. */
  symbol: string;
  /** The .params file. */
  params?: string;
  /** `name=d1,d2,...`, one per input. */
  shape: readonly string[] | string;
  target: string;
  out: string;
  /** cuda: architectures for CUBIN (e.g. sm_80 sm_90). */
  arch?: readonly string[] | string;
  /** cuda: the nvcc to use. */
  nvcc?: string;
  /** kilnModule of the TypeScript wrapper. */
  kilnModule?: string;
}

/** Parses `name=d1,d2,...` options into a shape record; errors quote the bad option. */
export function parseShapeSpecs(specs: readonly string[] | string): Record<string, number[]> {
  const list = typeof specs === "string" ? [specs] : specs;
  if (!list || list.length === 0) throw new KilnError("export: give the input shapes, e.g. --shape data=1,1,28,28");
  const out: Record<string, number[]> = {};
  for (const spec of list) {
    const m = /^\s*([^=\s]+)\s*=\s*(\d+(?:\s*,\s*\d+)*)\s*$/.exec(String(spec));
    const dims = m ? m[2].split(",").map((d) => Number(d.trim())) : [];
    if (!m || dims.some((d) => !Number.isSafeInteger(d) || d <= 0))
      throw new KilnError(`export: --shape "${spec}" must look like name=1,1,28,28 (an input name, then positive integers)`);
    if (out[m[1]]) throw new KilnError(`export: --shape gives ${m[1]} twice`);
    out[m[1]] = dims;
  }
  return out;
}

function summary(r: ExportResult): string {
  const t = (ts: ExportResult["inputs"]): string => ts.map((x) => `${x.name} ${x.dtype}(${x.shape.join(",")})`).join(", ");
  const lines = [
    `exported ${r.kernels} kernels (${r.steps} steps, arena ${r.arenaBytes} bytes, ${r.weights.length} weights in ${r.weightsBytes} bytes) for ${r.target} to ${r.dir}`,
    `  inputs:  ${t(r.inputs)}`,
    `  outputs: ${t(r.outputs)}`,
  ];
  if (r.images.length) lines.push(`  images:  ${r.images.map((i) => i.file).join(", ")}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  lines.push(`  build:   cd ${r.dir} && make && ./example`);
  return lines.join("\n");
}

/** Runs the export for parsed command-line options; prints a summary through `log`. */
export async function exportCommand(args: ExportCommandArgs, log: (line: string) => void = console.log): Promise<ExportResult> {
  if (!args.symbol) throw new KilnError("export: name the -symbol.json file");
  if (!args.out) throw new KilnError("export: --out names the folder to write");
  if (args.target !== "cpu" && args.target !== "cuda") throw new KilnError(`export: --target must be cpu or cuda, got ${JSON.stringify(args.target)}`);
  const archs = args.arch === undefined ? undefined : (typeof args.arch === "string" ? [args.arch] : [...args.arch]).flatMap((a) => a.split(",")).filter(Boolean);
  const r = await exportModel(args.symbol, {
    shapes: parseShapeSpecs(args.shape),
    params: args.params ?? {},
    target: args.target as ExportTarget,
    out: args.out,
    archs,
    nvcc: args.nvcc,
    kilnModule: args.kilnModule,
  });
  log(summary(r));
  return r;
}
