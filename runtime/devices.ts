/** Which devices exist, and which one examples and the CLI use by default (`KILN_DEVICE`). */
import { KilnError } from "../compiler/base/errors.js";
import { Context, cpu, gpu, reference } from "./context.js";
import { status } from "./cuda/status.js";

/**
 * The usable devices, e.g. `["cpu(0)", "gpu(0)"]`: the cpu always, then each CUDA device when
 * the driver, a device and NVRTC are all present. Never throws.
 */
export function devices(): string[] {
  const s = status();
  const out = ["cpu(0)"];
  if (s.available) for (const d of s.devices) out.push(`gpu(${d.id})`);
  return out;
}

/**
 * The default context from `KILN_DEVICE`: `cpu` (default), `cuda` or `gpu` (gpu(0); `cuda:1`
 * or `gpu:1` for another), `reference`. Picking a GPU that is absent is not an error here; the
 * first use of the context says what is missing.
 */
export function defaultContext(env: NodeJS.ProcessEnv = process.env): Context {
  const v = (env.KILN_DEVICE ?? "").trim().toLowerCase();
  if (v === "" || v === "cpu") return cpu();
  if (v === "reference") return reference();
  const m = /^(cuda|gpu)(?:[:(](\d+)\)?)?$/.exec(v);
  if (m) return gpu(m[2] !== undefined ? Number(m[2]) : 0);
  throw new KilnError(`KILN_DEVICE=${env.KILN_DEVICE}: expected cpu, cuda, gpu, cuda:N or reference`);
}
