/**
 * Compiled CPU kernel libraries and their kernels. Every kernel has the signature
 * `extern "C" void name(void* const* args)` (see runtime/kernel_args.ts for what args[i]
 * points at) and runs synchronously on the calling thread, fanning out with OpenMP.
 */
import { KilnError } from "../../compiler/base/errors.js";
import { loadNative } from "../native/loader.js";
import type { NativeAddon } from "../native/native_api.js";
import { ARG_SLOT_BYTES, KernelParam, checkParams, writeScalar } from "../kernel_args.js";

/** Anything with host storage: an NDArray on the cpu context. */
export interface HostDataSource {
  hostData(): ArrayBufferView;
}

/** One call argument: an array (NDArray on cpu, or a TypedArray) for "ptr", a number for scalars. */
export type CpuKernelArg = HostDataSource | ArrayBufferView | number | bigint;

export class CpuKernel {
  private readonly views: ArrayBufferView[];
  private readonly scalarView: DataView;

  constructor(
    readonly library: CpuLibrary,
    readonly name: string,
    readonly params: readonly KernelParam[],
    private readonly fn: bigint,
  ) {
    // One slot per parameter, reused: calls are synchronous, so nothing else can see them.
    const slots = new Uint8Array(Math.max(1, params.length) * ARG_SLOT_BYTES);
    this.scalarView = new DataView(slots.buffer);
    this.views = params.map((_, i) => slots.subarray(i * ARG_SLOT_BYTES, (i + 1) * ARG_SLOT_BYTES));
  }

  /** Runs the kernel to completion. */
  call(args: readonly CpuKernelArg[]): void {
    const where = `cpu kernel ${this.name}`;
    if (args.length !== this.params.length)
      throw new KilnError(`${where}: expects ${this.params.length} arguments (${this.params.join(", ")}), got ${args.length}`);
    const views: ArrayBufferView[] = new Array(args.length);
    for (let i = 0; i < args.length; i++) {
      const p = this.params[i];
      const a = args[i];
      if (p === "ptr") views[i] = hostViewOf(a, `${where} argument ${i}`);
      else {
        if (typeof a !== "number" && typeof a !== "bigint") throw new KilnError(`${where} argument ${i}: expected a ${p} scalar`);
        writeScalar(this.scalarView, i * ARG_SLOT_BYTES, p, a, `${where} argument ${i}`);
        views[i] = this.views[i];
      }
    }
    this.library.native().cpuCall(this.fn, views);
  }
}

function hostViewOf(a: CpuKernelArg, where: string): ArrayBufferView {
  if (ArrayBuffer.isView(a)) return a;
  if (typeof a === "object" && a !== null && "hostData" in a && typeof a.hostData === "function") return a.hostData();
  throw new KilnError(`${where}: expected a host array (cpu NDArray or TypedArray), got ${typeof a}`);
}

export class CpuLibrary {
  private handle: bigint | undefined;
  private readonly kernels = new Map<string, CpuKernel>();
  private readonly addon: NativeAddon;

  /** dlopens the shared library at `path` (a verified cache file). */
  constructor(readonly path: string) {
    // OpenMP's default spin-waiting between kernels costs more than it saves when Node and other
    // processes share the cores (13× slower MLP batches on a busy 2-core machine); libgomp reads
    // this when the first OpenMP library loads. Set OMP_WAIT_POLICY=active to override.
    process.env.OMP_WAIT_POLICY ??= "passive";
    this.addon = loadNative();
    this.handle = this.addon.cpuOpen(path);
  }

  get closed(): boolean {
    return this.handle === undefined;
  }

  /** @internal */
  native(): NativeAddon {
    if (this.handle === undefined) throw new KilnError(`${this.path}: library was closed`);
    return this.addon;
  }

  /** The kernel `name` with its parameter list. */
  getFunction(name: string, params: readonly KernelParam[]): CpuKernel {
    const checked = checkParams(params, `cpu kernel ${name}`);
    const memo = this.kernels.get(name);
    if (memo && memo.params.join() === checked.join()) return memo;
    const k = new CpuKernel(this, name, checked, this.native().cpuSymbol(this.handle as bigint, name));
    this.kernels.set(name, k);
    return k;
  }

  /** Closes the library; its kernels become unusable. */
  close(): void {
    if (this.handle === undefined) return;
    this.addon.cpuClose(this.handle);
    this.handle = undefined;
    this.kernels.clear();
  }
}
