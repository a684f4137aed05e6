/**
 * Loaded CUDA modules and their kernels. A kernel is looked up with its parameter list, which
 * says how each launch argument is packed (see runtime/kernel_args.ts).
 */
import { KilnError } from "../../compiler/base/errors.js";
import { ARG_SLOT_BYTES, KernelParam, checkParams, writeScalar } from "../kernel_args.js";
import type { CudaDevice } from "./device.js";
import { CudaImage } from "./compile.js";
import { CudaError } from "./errors.js";
import { probeDriver, probeNvrtc } from "./driver.js";
import { versionMismatch } from "./status.js";

/** Anything that lives in device memory: an NDArray on a gpu context, a DeviceBlock. */
export interface DevicePointerSource {
  devicePointer(): bigint;
}

/** One launch argument: a device array (or raw device pointer) for "ptr", a number for scalars. */
export type CudaKernelArg = DevicePointerSource | { readonly ptr: bigint } | bigint | number;

/** Grid and block sizes: a number is the x dimension. */
export type Dim3 = number | readonly [number, number?, number?];

export interface LaunchConfig {
  grid: Dim3;
  block: Dim3;
  /** Dynamic shared memory in bytes (above 48 KiB the kernel is opted in automatically). */
  sharedBytes?: number;
}

const CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
const DEFAULT_SHARED_LIMIT = 48 * 1024;

function dims(d: Dim3, what: string): [number, number, number] {
  const a = typeof d === "number" ? [d, 1, 1] : [d[0], d[1] ?? 1, d[2] ?? 1];
  for (const v of a)
    if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) throw new KilnError(`launch: ${what} ${JSON.stringify(d)} must hold positive integers`);
  return a as [number, number, number];
}

export class CudaKernel {
  private readonly argBytes: Uint8Array;
  private readonly argView: DataView;
  private readonly offsets: Uint32Array;
  private sharedOptIn = DEFAULT_SHARED_LIMIT;

  constructor(
    readonly module: CudaModule,
    readonly name: string,
    readonly params: readonly KernelParam[],
    private readonly fn: bigint,
  ) {
    // The driver copies argument values at launch, so one buffer per kernel can be reused.
    this.argBytes = new Uint8Array(Math.max(1, params.length) * ARG_SLOT_BYTES);
    this.argView = new DataView(this.argBytes.buffer);
    this.offsets = Uint32Array.from(params, (_, i) => i * ARG_SLOT_BYTES);
  }

  /** Queues the kernel on the device's stream. */
  launch(cfg: LaunchConfig, args: readonly CudaKernelArg[]): void {
    const where = `kernel ${this.name}`;
    if (args.length !== this.params.length)
      throw new KilnError(`${where}: expects ${this.params.length} arguments (${this.params.join(", ")}), got ${args.length}`);
    for (let i = 0; i < args.length; i++) {
      const p = this.params[i];
      if (p === "ptr") this.argView.setBigUint64(i * ARG_SLOT_BYTES, pointerOf(args[i], `${where} argument ${i}`), true);
      else {
        const a = args[i];
        if (typeof a !== "number" && typeof a !== "bigint") throw new KilnError(`${where} argument ${i}: expected a ${p} scalar`);
        writeScalar(this.argView, i * ARG_SLOT_BYTES, p, a, `${where} argument ${i}`);
      }
    }
    const g = dims(cfg.grid, "grid");
    const b = dims(cfg.block, "block");
    const shared = cfg.sharedBytes ?? 0;
    const dev = this.module.device;
    if (!this.module.loaded) throw new KilnError(`${where}: its module was unloaded`);
    dev.makeCurrent();
    if (shared > this.sharedOptIn) {
      dev.cu.cuFuncSetAttribute(this.fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, shared);
      this.sharedOptIn = shared;
    }
    dev.cu.cuLaunchKernel(this.fn, g[0], g[1], g[2], b[0], b[1], b[2], shared, dev.stream, this.argBytes, this.offsets);
  }
}

function pointerOf(a: CudaKernelArg, where: string): bigint {
  if (typeof a === "bigint") return a;
  if (typeof a === "object" && a !== null) {
    if ("devicePointer" in a && typeof a.devicePointer === "function") return a.devicePointer();
    if ("ptr" in a && typeof a.ptr === "bigint") return a.ptr;
  }
  throw new KilnError(`${where}: expected a device array or pointer, got ${typeof a === "object" ? String(a) : typeof a}`);
}

/** Codes of cuModuleLoadData that usually mean a toolkit/driver version mismatch. */
const IMAGE_ERRORS = new Set([200, 209, 218, 222]);

function withLoadHint(err: unknown, image: CudaImage): unknown {
  if (!(err instanceof CudaError) || !IMAGE_ERRORS.has(err.code)) return err;
  const mismatch = versionMismatch(probeDriver().version, probeNvrtc().version);
  const hint = mismatch ?? `the ${image.kind} for ${image.target} was rejected by this driver`;
  return new CudaError(`${err.message} (${hint}; cache key ${image.key})`, err.call, err.code, err.codeName);
}

export class CudaModule {
  private handle: bigint | undefined;
  private readonly kernels = new Map<string, CudaKernel>();

  constructor(
    readonly device: CudaDevice,
    readonly image: CudaImage,
  ) {
    device.makeCurrent();
    let bytes = image.bytes;
    // cuModuleLoadData reads PTX up to its NUL; make sure there is one.
    if (image.kind === "ptx" && bytes[bytes.length - 1] !== 0) {
      bytes = new Uint8Array(bytes.length + 1);
      bytes.set(image.bytes);
    }
    try {
      this.handle = device.cu.cuModuleLoadData(bytes);
    } catch (err) {
      throw withLoadHint(err, image);
    }
  }

  get loaded(): boolean {
    return this.handle !== undefined;
  }

  /** The kernel `name` (an `extern "C" __global__` function) with its parameter list. */
  getFunction(name: string, params: readonly KernelParam[]): CudaKernel {
    const checked = checkParams(params, `kernel ${name}`);
    const memo = this.kernels.get(name);
    if (memo && memo.params.join() === checked.join()) return memo;
    if (this.handle === undefined) throw new KilnError(`kernel ${name}: its module was unloaded`);
    this.device.makeCurrent();
    const k = new CudaKernel(this, name, checked, this.device.cu.cuModuleGetFunction(this.handle, name));
    this.kernels.set(name, k);
    return k;
  }

  /** Unloads the module (waits for queued work first); its kernels become unusable. */
  unload(): void {
    if (this.handle === undefined) return;
    this.device.synchronize();
    this.device.cu.cuModuleUnload(this.handle);
    this.handle = undefined;
    this.kernels.clear();
  }
}
