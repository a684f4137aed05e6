/**
 * `kiln info [symbol]`: without a symbol, what this machine offers Kiln (devices, CUDA and
 * NVRTC, the C++ compiler, the kernel cache); with one, its arguments, aux states and outputs
 * with inferred shapes.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Argv, CommandModule } from "yargs";
import { cpuKernels, cuda, defaultKernelCache, devices } from "../../index.js";
import type { CudaStatus } from "../../index.js";
import { UsageError, formatBytes, formatShape, formatTable } from "../format.js";
import { inputShapes, loadSymbol, withShapeOption } from "../model.js";

function builder(y: Argv) {
  return withShapeOption(
    y
      .positional("symbol", { type: "string", describe: "path to a -symbol.json file (leave out for the machine's devices, compilers and cache)" })
      .option("json", { type: "boolean", default: false, describe: "print JSON" }),
  )
    .example("$0 info", "devices, CUDA driver and NVRTC (or why not), the C++ compiler, the kernel cache")
    .example("$0 info resnet-18-symbol.json --shape data=1,3,224,224", "arguments, aux states and outputs with inferred shapes");
}

type Args = ReturnType<typeof builder> extends Argv<infer U> ? U : never;

export interface CacheUsage {
  dir?: string;
  enabled: boolean;
  exists: boolean;
  /** Verified entries (`.kiln` files). */
  entries: number;
  /** Every file (entries and materialized libraries). */
  files: number;
  bytes: number;
}

/** Entries and bytes on disk under the kernel cache directory (never throws). */
export function cacheUsage(): CacheUsage {
  const dir = defaultKernelCache().dir;
  const out: CacheUsage = { dir, enabled: dir !== undefined, exists: false, entries: 0, files: 0, bytes: 0 };
  if (dir === undefined) return out;
  const walk = (d: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    if (depth === 0) out.exists = true;
    for (const name of names) {
      const p = join(d, name);
      try {
        const st = statSync(p);
        if (st.isDirectory()) {
          if (depth < 4) walk(p, depth + 1);
        } else if (st.isFile()) {
          out.files++;
          out.bytes += st.size;
          if (name.endsWith(".kiln")) out.entries++;
        }
      } catch {
        /* removed while we looked */
      }
    }
  };
  walk(dir, 0);
  return out;
}

function machineInfo() {
  const status: CudaStatus = cuda.status();
  const cxx = cpuKernels.compiler();
  return { devices: devices(), cuda: status, cxx, cache: cacheUsage() };
}

function formatMachine(m: ReturnType<typeof machineInfo>): string {
  const s = m.cuda;
  const lines = [`Devices: ${m.devices.join(", ")}`, ""];
  lines.push(`CUDA: ${s.available ? `available, ${s.devices.length} device${s.devices.length === 1 ? "" : "s"}` : `not available: ${s.reason ?? "no CUDA device"}`}`);
  lines.push(`  native addon: ${s.native.loaded ? s.native.path : `not loaded${s.native.error ? ` (${s.native.error})` : ""}`}`);
  lines.push(`  driver: ${s.driver.loaded ? `${s.driver.path}, CUDA ${s.driver.version ?? "?"}` : "not found"}${s.driver.error && !s.driver.loaded && s.driver.error !== s.reason ? ` (${s.driver.error})` : ""}`);
  lines.push(
    `  NVRTC: ${s.nvrtc.loaded ? `${s.nvrtc.path}, version ${s.nvrtc.version ?? "?"}${s.nvrtc.cubinArchs.length ? `, CUBIN for sm_${Math.min(...s.nvrtc.cubinArchs)}-sm_${Math.max(...s.nvrtc.cubinArchs)}` : ""}` : "not found"}${s.nvrtc.error && !s.nvrtc.loaded && s.nvrtc.error !== s.reason ? ` (${s.nvrtc.error})` : ""}`,
  );
  for (const d of s.devices)
    lines.push(
      `  gpu(${d.id}): ${d.name}, compute capability ${d.computeCapability.join(".")} (${d.arch}), ${formatBytes(d.totalMemory)}, ${d.smCount} SMs, ` +
        `${formatBytes(d.maxSharedMemoryPerBlockOptin)} shared memory per block (opt-in), ${formatBytes(d.l2CacheBytes)} L2`,
    );
  if (s.available === false && s.deviceCount === 0 && s.driver.loaded) lines.push("  the driver sees no CUDA device");
  for (const w of s.warnings) lines.push(`  warning: ${w}`);
  lines.push("");
  if (m.cxx.compiler) {
    const c = m.cxx.compiler;
    lines.push(`C++ compiler: ${c.command} (${c.version})`);
    lines.push(`  flags: ${c.flags.join(" ")} -shared -fPIC${process.env.KILN_CXXFLAGS !== undefined ? " (from KILN_CXXFLAGS)" : ""}`);
    lines.push(`  target: ${c.target}`);
  } else lines.push(`C++ compiler: none (${m.cxx.error})`);
  lines.push("");
  const c = m.cache;
  if (!c.enabled) lines.push("Kernel cache: disk level off (KILN_CACHE=0); kernels are cached in memory only");
  else
    lines.push(
      `Kernel cache: ${c.dir}${process.env.KILN_CACHE_DIR ? " (KILN_CACHE_DIR)" : ""}\n  ` +
        (c.exists ? `${c.entries} entries, ${c.files} files, ${formatBytes(c.bytes)} on disk` : "empty (the directory is created on the first compile)"),
    );
  return lines.join("\n");
}

export const infoCommand: CommandModule<{}, Args> = {
  command: "info [symbol]",
  describe: "Show devices, CUDA/NVRTC, the C++ compiler and the kernel cache; or a symbol's arguments, aux states and outputs with inferred shapes",
  builder,
  handler(argv) {
    if (argv.symbol === undefined) {
      if (argv.shape.length) throw new UsageError("--shape needs a symbol file: kiln info <symbol.json> --shape data=...");
      const m = machineInfo();
      console.log(argv.json ? JSON.stringify(m, null, 2) : formatMachine(m));
      return;
    }
    const net = loadSymbol(argv.symbol);
    const shapes = inputShapes(net, argv.shape);
    const [argShapes, outShapes, auxShapes] = net.inferShapePartial(shapes);
    const entries = [
      ...net.listArguments().map((n, i) => ({ kind: "argument", name: n, shape: argShapes[i] })),
      ...net.listAuxiliaryStates().map((n, i) => ({ kind: "aux", name: n, shape: auxShapes[i] })),
      ...net.listOutputs().map((n, i) => ({ kind: "output", name: n, shape: outShapes[i] })),
    ];
    if (argv.json) {
      console.log(JSON.stringify({ symbol: argv.symbol, nodes: net.graph().nodes.length, entries: entries.map((e) => ({ ...e, shape: e.shape.length ? e.shape : null })) }, null, 2));
      return;
    }
    console.log(`${argv.symbol}: ${net.graph().nodes.length} nodes`);
    console.log(formatTable(["kind", "name", "shape"], entries.map((e) => [e.kind, e.name, e.shape.length === 0 ? "?" : formatShape(e.shape)])));
  },
};
