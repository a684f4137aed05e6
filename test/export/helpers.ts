/**
 * Shared pieces of the export tests: the shared MNIST models, the compiled executor's outputs
 * as the oracle, building an exported folder with the system toolchain, running its example.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { sym, cpu, nd, NDArray } from "../../index.js";
import "../../runtime/executor/compiled_binder.js";
import { MODELS_DIR } from "../helpers/paths.js";

/** Where the generated model.ts imports Kiln from: this build's export module. */
export const KILN_MODULE = new URL("../../runtime/export/index.js", import.meta.url).href;

export interface SharedModel {
  name: string;
  epoch: string;
  batch: number;
}

export const MODELS: SharedModel[] = [
  { name: "mnist", epoch: "0035", batch: 4 },
  { name: "lenet", epoch: "0001", batch: 1 },
];

export const symbolPath = (m: SharedModel): string => path.join(MODELS_DIR, `${m.name}-symbol.json`);
export const paramsPath = (m: SharedModel): string => path.join(MODELS_DIR, `${m.name}-${m.epoch}.params`);

export function tempDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kiln-export-${tag}-`));
}

/** Seeded pixel-like values in [0, 1). */
export function seededInput(n: number, seed = 7): Float32Array {
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 4294967296;
  }
  return v;
}

/** The compiled executor on cpu() with the model's trained weights: the oracle. */
export function executorOutputs(m: SharedModel, data: Float32Array): number[] {
  const net = sym.load(symbolPath(m));
  const params = nd.load(paramsPath(m)) as Record<string, NDArray>;
  const args: Record<string, NDArray> = {};
  const aux: Record<string, NDArray> = {};
  for (const [k, v] of Object.entries(params)) (k.startsWith("aux:") ? aux : args)[k.replace(/^(arg|aux):/, "")] = v;
  args.data = new NDArray([m.batch, 1, 28, 28]).set(data);
  const exe = net.bind({ ctx: cpu(), args, auxStates: aux, gradReq: "null" });
  exe.forward(false);
  return exe.outputs[0].toArray();
}

/** Asserts |got − want| ≤ rel · max(|want|, 1e-2 · max |want|) everywhere; returns the worst ratio to rel. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, what: string): number {
  expect(got.length, `${what}: length`).to.equal(want.length);
  let top = 0;
  for (let i = 0; i < want.length; i++) top = Math.max(top, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const scale = Math.max(Math.abs(want[i]), 1e-2 * top, 1e-30);
    const r = Math.abs(got[i] - want[i]) / scale / rel;
    if (!(r <= 1)) expect.fail(`${what}[${i}]: got ${got[i]}, want ${want[i]} (${(r * rel).toExponential(2)} relative, allowed ${rel})`);
    worst = Math.max(worst, r);
  }
  return worst;
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: "utf8", maxBuffer: 64 << 20 });
  return { status: r.error ? -1 : r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? r.error.message : "") };
}

export const has = (cmd: string): boolean => run(cmd, ["--version"]).status === 0;

/**
 * Builds the exported folder's example: with make when present, else cmake, else the
 * Makefile's commands run directly. Returns the example's path.
 */
export function buildExport(dir: string, cuda = false): string {
  const check = (r: ReturnType<typeof run>, what: string): void => {
    if (r.status !== 0) expect.fail(`${what} failed in ${dir}:\n${r.stdout}\n${r.stderr}`);
  };
  if (has("make")) {
    check(run("make", ["-j2"], { cwd: dir }), "make");
    return path.join(dir, "example");
  }
  if (has("cmake")) {
    check(run("cmake", ["-S", ".", "-B", "build"], { cwd: dir }), "cmake configure");
    check(run("cmake", ["--build", "build"], { cwd: dir }), "cmake --build");
    return path.join(dir, "build", "example");
  }
  const cc = has("cc") ? "cc" : "gcc";
  check(run(cc, ["-O2", "-c", "-o", "kiln_model.o", "kiln_model.c"], { cwd: dir }), "cc kiln_model.c");
  if (cuda) {
    check(run(cc, ["-O2", "-o", "example", "example.c", "kiln_model.o", "-ldl", "-lm"], { cwd: dir }), "cc example.c");
  } else {
    check(run("g++", ["-O2", "-std=c++17", "-fopenmp", "-c", "-o", "kernels.o", "kernels.cpp"], { cwd: dir }), "g++ kernels.cpp");
    check(run("g++", ["-O2", "-std=c++17", "-c", "-o", "kernel_table.o", "kernel_table.cpp"], { cwd: dir }), "g++ kernel_table.cpp");
    check(run(cc, ["-O2", "-c", "-o", "example.o", "example.c"], { cwd: dir }), "cc example.c");
    check(run("g++", ["-fopenmp", "-o", "example", "example.o", "kiln_model.o", "kernels.o", "kernel_table.o", "-lm"], { cwd: dir }), "link");
  }
  return path.join(dir, "example");
}

/** Runs the example on raw input files; returns its raw outputs (float32) and its stdout. */
export function runExample(example: string, dir: string, inputs: Float32Array[], env?: NodeJS.ProcessEnv): { outputs: Float32Array; stdout: string } {
  const files = inputs.map((v, i) => {
    const f = path.join(dir, `test-input-${i}.raw`);
    fs.writeFileSync(f, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return f;
  });
  const out = path.join(dir, "test-outputs.raw");
  const r = run(example, ["-m", dir, "-o", out, ...files], { env });
  if (r.status !== 0) expect.fail(`${example} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return { outputs: new Float32Array(Uint8Array.from(fs.readFileSync(out)).buffer), stdout: r.stdout };
}
