/**
 * Kernel images of a CUDA export: CUBIN for each requested architecture and PTX for the
 * oldest (the driver JIT-compiles PTX for any newer GPU), made with nvcc when it is installed,
 * else with NVRTC when Kiln can load it, else none (the export's Makefile has an `images`
 * rule for later).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { KilnError } from "../../compiler/base/errors.js";
import { probeNvrtc } from "../cuda/driver.js";
import { compileCuda } from "../cuda/compile.js";

export const DEFAULT_ARCHS: readonly string[] = ["sm_80", "sm_90"];

export interface CudaImageFile {
  file: string;
  kind: "CUBIN" | "PTX";
  /** "sm_90", "compute_80". */
  arch: string;
  compiler: "nvcc" | "NVRTC";
}

export interface CudaImages {
  images: CudaImageFile[];
  /** What happened when not every image could be made ("" when all were). */
  note: string;
}

/** "sm_90", "90" or "compute_90" → 90; throws on anything else. */
export function parseArch(a: string): number {
  const m = /^(?:sm_|compute_)?(\d{2,3})$/.exec(String(a).trim());
  if (!m) throw new KilnError(`export: archs entry ${JSON.stringify(a)} is not a GPU architecture (expected e.g. "sm_80" or "90")`);
  return Number(m[1]);
}

/** nvcc on PATH or in /usr/local/cuda*, or KILN_NVCC; undefined when there is none. */
export function findNvcc(): string | undefined {
  const candidates = process.env.KILN_NVCC ? [process.env.KILN_NVCC] : ["nvcc"];
  if (!process.env.KILN_NVCC && fs.existsSync("/usr/local"))
    for (const d of fs.readdirSync("/usr/local").filter((d) => /^cuda/.test(d)).sort().reverse()) candidates.push(path.join("/usr/local", d, "bin", "nvcc"));
  for (const c of candidates) {
    const r = spawnSync(c, ["--version"], { encoding: "utf8", timeout: 20000 });
    if (r.status === 0) return c;
  }
  return undefined;
}

function runNvcc(nvcc: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(nvcc, args, { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    p.stdout.on("data", (d) => (log += d));
    p.stderr.on("data", (d) => (log += d));
    p.on("error", (err) => reject(new KilnError(`export: ${nvcc} did not run: ${err.message}`)));
    p.on("close", (code) => (code === 0 ? resolve() : reject(new KilnError(`export: ${nvcc} ${args.join(" ")} failed (exit ${code}):\n${log.trim()}`))));
  });
}

/**
 * Writes the images of `dir`/kernels.cu for `archs` into `dir`. `nvcc`: a path, false to skip
 * nvcc (NVRTC or nothing), undefined to look for it.
 */
export async function buildCudaImages(dir: string, source: string, archs: readonly string[], nvcc?: string | false): Promise<CudaImages> {
  const sms = [...new Set(archs.map(parseArch))].sort((a, b) => a - b);
  if (sms.length === 0) return { images: [], note: "no architectures were asked for: kernels.cu only" };
  const oldest = sms[0];
  const tool = nvcc === false ? undefined : (nvcc ?? findNvcc());
  if (tool) {
    const images: CudaImageFile[] = [
      ...sms.map((sm): CudaImageFile => ({ file: `kernels.sm_${sm}.cubin`, kind: "CUBIN", arch: `sm_${sm}`, compiler: "nvcc" })),
      { file: `kernels.compute_${oldest}.ptx`, kind: "PTX", arch: `compute_${oldest}`, compiler: "nvcc" },
    ];
    await Promise.all(
      images.map((im) =>
        runNvcc(tool, ["-std=c++17", im.kind === "CUBIN" ? "-cubin" : "-ptx", `-arch=${im.arch}`, "-o", path.join(dir, im.file), path.join(dir, "kernels.cu")]),
      ),
    );
    return { images, note: "" };
  }
  const nvrtc = probeNvrtc();
  if (nvrtc.ok) {
    const images: CudaImageFile[] = [];
    for (const sm of sms) {
      const img = compileCuda(source, [Math.floor(sm / 10), sm % 10]);
      const file = img.kind === "cubin" ? `kernels.${img.target}.cubin` : `kernels.${img.target}.ptx`;
      fs.writeFileSync(path.join(dir, file), img.bytes);
      images.push({ file, kind: img.kind === "cubin" ? "CUBIN" : "PTX", arch: img.target, compiler: "NVRTC" });
    }
    const ptx = compileCuda(source, [Math.floor(oldest / 10), oldest % 10], { ptx: true });
    const file = `kernels.${ptx.target}.ptx`;
    if (!images.some((i) => i.file === file)) {
      fs.writeFileSync(path.join(dir, file), ptx.bytes[ptx.bytes.length - 1] === 0 ? ptx.bytes.subarray(0, ptx.bytes.length - 1) : ptx.bytes);
      images.push({ file, kind: "PTX", arch: ptx.target, compiler: "NVRTC" });
    }
    return { images, note: "" };
  }
  return {
    images: [],
    note: "neither nvcc nor NVRTC was found at export: only kernels.cu; `make images` builds the CUBIN and PTX files with nvcc",
  };
}
