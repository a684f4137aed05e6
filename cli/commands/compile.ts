/**
 * `kiln compile <symbol.json>`: compiles a network for given input shapes without running it
 * and writes what the compiler made: the module's source, the kernel list and the memory plan.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { Argv, CommandModule } from "yargs";
import { compileSymbol, cpuKernels, cuda, KilnError } from "../../index.js";
import type { CompiledSymbol, Program } from "../../index.js";
import { compactShape, formatBytes, formatShape, formatTable } from "../format.js";
import { inputShapes, loadParams, loadSymbol, modelStem, withShapeOption } from "../model.js";

function builder(y: Argv) {
  return withShapeOption(
    y
      .positional("symbol", { type: "string", demandOption: true, describe: "path to a -symbol.json file" })
      .option("params", { type: "string", describe: "a .params file: shapes of its arguments join --shape (and must agree with inference)" })
      .option("target", { choices: ["cpu", "cuda"] as const, default: "cpu" as const, describe: "generate C++ (module.cpp) or CUDA (module.cu)" })
      .option("train", { type: "boolean", default: false, describe: "compile the training program (forward with batch statistics and backward)" })
      .option("out", { type: "string", describe: "folder to write into (default ./<model>-<target>)" })
      .option("fuse", { type: "boolean", default: true, describe: "fuse operators into kernels (--no-fuse: one kernel per op output)" })
      .option("inplace", { type: "boolean", default: true, describe: "let the memory plan write outputs over dead inputs" })
      .option("mirror", { type: "boolean", default: false, describe: "recompute cheap forward nodes in backward (with --train)" })
      .option("build", { type: "boolean", default: false, describe: "also compile the source (system C++ compiler, or NVRTC on a GPU) and time it" })
      .option("kernels", { type: "boolean", default: true, describe: "print the kernel table (--no-kernels: the report only)" }),
    "input shape, e.g. data=1,3,224,224 (repeatable)",
  )
    .example("$0 compile resnet-18-symbol.json --shape data=1,3,224,224 --out build/resnet", "writes module.cpp, kernels.json, memory.json")
    .example("$0 compile mnist-symbol.json --shape data=64,1,28,28 --train --target cuda", "the training program as CUDA source")
    .example("$0 compile mnist-symbol.json --shape data=1,1,28,28 --build", "and check that the C++ compiles");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

/** One row of kernels.json. */
function kernelRows(c: CompiledSymbol) {
  const p: Program = c.program;
  return c.kernels.map((k, i) => ({
    index: i,
    name: k.name,
    phase: k.phase,
    ops: [...k.ops],
    nodes: [...k.nodes],
    fused: k.ops.length > 1,
    output: k.output,
    outputShape: [...p.steps[i].outputType.shape],
    dtype: p.steps[i].outputType.dtype,
    inputs: p.steps[i].inputs.map((r, j) => ({ ref: refJSON(r), shape: [...p.steps[i].inputTypes[j].shape], dtype: p.steps[i].inputTypes[j].dtype })),
    writes: refJSON(p.steps[i].output),
    ...(k.launch ? { launch: k.launch } : {}),
  }));
}

function refJSON(r: Program["steps"][number]["output"]): Record<string, unknown> {
  if (r.kind === "pool") return { kind: "arena", storage: r.storage, offset: r.offset, bytes: r.bytes };
  if (r.kind === "var") return { kind: r.role.kind, ...(r.role.kind !== "seed" ? { index: r.role.index } : {}) };
  return { kind: r.dest.kind, index: r.dest.index, ...(r.dest.kind === "grad" && r.dest.accumulate ? { accumulate: true } : {}) };
}

/** memory.json: the report and where every arena-planned output lives. */
function memoryJSON(c: CompiledSymbol) {
  const entries = c.program.steps.flatMap((s, i) =>
    s.output.kind === "pool" ? [{ entry: s.outputName, kernel: i, storage: s.output.storage, offset: s.output.offset, bytes: s.output.bytes, shape: [...s.outputType.shape], dtype: s.outputType.dtype }] : [],
  );
  return { ...c.memory, savedBytes: c.memory.naiveBytes - c.memory.plannedBytes, entries };
}

export const compileCommand: CommandModule<{}, Args> = {
  command: "compile <symbol>",
  describe: "Compile a network for given shapes and write its source (module.cpp/.cu), kernels.json and memory.json with a report",
  builder,
  handler(argv) {
    const net = loadSymbol(argv.symbol);
    const params = argv.params ? loadParams(argv.params) : undefined;
    const shapes = inputShapes(net, argv.shape, params);
    const target = argv.target === "cuda" ? "cuda" : "cpp";
    const t0 = performance.now();
    const compiled = compileSymbol(net, { shapes, isTrain: argv.train, target, fuse: argv.fuse, inplace: argv.inplace, mirror: argv.mirror });
    const totalMs = performance.now() - t0;
    if (params) {
      const [argShapes] = net.inferShape(shapes);
      net.listArguments().forEach((name, i) => {
        const have = params.args[name]?.shape;
        if (have && compactShape(have) !== compactShape(argShapes[i]))
          throw new KilnError(`${argv.params}: ${name} has shape ${formatShape(have)}, the network needs ${formatShape(argShapes[i])}`);
      });
    }
    const module = compiled.module;
    if (!module) throw new KilnError("compileSymbol rendered no module");
    const out = resolve(argv.out ?? `${modelStem(argv.symbol)}-${argv.target}`);
    mkdirSync(out, { recursive: true });
    const sourceFile = join(out, target === "cuda" ? "module.cu" : "module.cpp");
    writeFileSync(sourceFile, module.source);
    const kernels = kernelRows(compiled);
    writeFileSync(join(out, "kernels.json"), JSON.stringify({ target, train: argv.train, shapes, kernels }, null, 2) + "\n");
    writeFileSync(join(out, "memory.json"), JSON.stringify(memoryJSON(compiled), null, 2) + "\n");

    const p = compiled.program;
    const m = compiled.memory;
    const fused = kernels.filter((k) => k.fused);
    const lines: string[] = [];
    lines.push(`${argv.symbol} -> ${target === "cuda" ? "CUDA" : "C++"}, ${argv.train ? "training" : "inference"} program, ${Object.entries(shapes).filter(([k]) => !params?.args[k]).map(([k, v]) => `${k} ${formatShape(v)}`).join(", ")}`);
    if (argv.kernels) {
      lines.push("");
      lines.push(
        formatTable(
          ["#", "phase", "kernel", "ops", "output"],
          kernels.map((k) => [String(k.index), k.phase, k.name.length > 40 ? `${k.name.slice(0, 39)}…` : k.name, k.ops.join("+"), `${k.output} ${compactShape(k.outputShape)}`]),
          [0],
        ),
      );
    }
    lines.push("");
    lines.push(`Kernels: ${kernels.length} launches (${p.forwardSteps} forward, ${kernels.length - p.forwardSteps} backward), ${p.kernels.length} distinct`);
    lines.push(`Fused groups: ${fused.length} kernels run 2+ ops (${fused.reduce((a, k) => a + k.ops.length, 0)} ops in them); ${kernels.length - fused.length} run one op`);
    lines.push(
      `Memory: planned ${formatBytes(m.plannedBytes)} (arena ${formatBytes(m.arenaBytes)} in ${m.storageIds} storage ids, ${formatBytes(m.boundOutputBytes)} written into bound arrays, ` +
        `${m.inplace} in place${m.mirrored ? `, ${m.mirrored} mirrored` : ""}) vs naive ${formatBytes(m.naiveBytes)}` +
        (m.plannedBytes > 0 ? ` (${(m.naiveBytes / m.plannedBytes).toFixed(1)}x less)` : ""),
    );
    lines.push("");
    lines.push(formatTable(["pass", "ms", "result"], [...p.timings.map((t) => [t.name, t.ms.toFixed(1), t.summary]), ["total (with rendering)", totalMs.toFixed(1), ""]], [1]));
    if (argv.build) lines.push("", buildModule(module.source, target));
    lines.push("");
    lines.push(`Wrote ${sourceFile} (${formatBytes(Buffer.byteLength(module.source))}), ${join(out, "kernels.json")}, ${join(out, "memory.json")}`);
    console.log(lines.join("\n"));
  },
};

/** Compiles the module with the system C++ compiler or NVRTC and says how long it took. */
function buildModule(source: string, target: "cpp" | "cuda"): string {
  const t0 = performance.now();
  if (target === "cpp") {
    const before = cpuKernels.compilerRuns;
    cpuKernels.compile(source);
    const c = cpuKernels.compiler().compiler;
    return `Build: ${c?.command ?? "C++ compiler"} ${cpuKernels.compilerRuns > before ? `compiled the module in ${((performance.now() - t0) / 1000).toFixed(2)} s` : "found the module in the kernel cache"}`;
  }
  if (!cuda.isAvailable()) throw new KilnError(`--build --target cuda needs a GPU and NVRTC: ${cuda.status().reason ?? "no CUDA device"}`);
  cuda.compile(source);
  return `Build: NVRTC compiled (or found cached) the module in ${((performance.now() - t0) / 1000).toFixed(2)} s`;
}
