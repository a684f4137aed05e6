/**
 * Deployment export: the shared MNIST model (../shared/data/mxnet-models/mnist-symbol.json with
 * its epoch-35 weights) exported as a folder that builds and runs without Node.js or Kiln, then
 * loaded back from TypeScript through the export's own kernels.
 *
 *   node dist/examples/export_mnist.js [--target cpu|cuda] [--out dir] [--batch n]
 *   cd <out> && make && ./example        # the C program: no Node.js, no Kiln
 *
 * The same as `kiln export ../shared/data/mxnet-models/mnist-symbol.json --params
 * ../shared/data/mxnet-models/mnist-0035.params --shape data=1,1,28,28 --target cpu --out <dir>`.
 */
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { exportModel, loadExportedModel } from "../runtime/export/index.js";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const models = join(process.env.KILN_SHARED_DATA ?? resolve("..", "shared", "data"), "mxnet-models");
  const target = option("target", "cpu") as "cpu" | "cuda";
  const out = option("out", join(tmpdir(), `kiln-mnist-${target}`));
  const batch = Number(option("batch", "1"));

  const r = await exportModel(join(models, "mnist-symbol.json"), {
    shapes: { data: [batch, 1, 28, 28] },
    params: join(models, "mnist-0035.params"),
    target,
    out,
  });
  console.log(`exported ${r.kernels} kernels, an arena of ${r.arenaBytes} bytes and ${r.weights.length} weights to ${r.dir}`);
  for (const n of r.notes) console.log(`note: ${n}`);
  console.log(`files: ${r.files.join(" ")}`);
  console.log(`build and run without Node.js: cd ${r.dir} && make && ./example`);

  if (target === "cpu") {
    // The exported kernels, run from TypeScript (model.ts in the folder wraps this with types).
    const model = loadExportedModel(r.dir);
    const data = new Float32Array(batch * 784).map((_, i) => ((i * 7) % 23) / 22); // example.c's test pattern
    const scores = model.run({ data })[r.outputs[0].name] as Float32Array;
    for (let b = 0; b < batch; b++) {
      const row = Array.from(scores.subarray(b * 10, b * 10 + 10));
      console.log(`image ${b}: class ${row.indexOf(Math.max(...row))}, scores ${row.map((v) => v.toFixed(4)).join(" ")}`);
    }
    model.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
