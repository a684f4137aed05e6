/**
 * The shape of the `kiln_native` addon (runtime/native/src). Every function is a thin wrapper
 * over one C call; handles and device pointers are BigInts. Failing CUDA and NVRTC calls throw
 * an Error carrying {@link NativeCallError} fields. Policy (where to look for libraries,
 * allocation, caching, error wording) lives in TypeScript.
 */

/** A device pointer or an opaque handle (context, stream, module, function, event, graph, library). */
export type Handle = bigint;

/** Any typed view of bytes the addon reads or writes in place. */
export type HostView = ArrayBufferView;

/** Fields the addon sets on errors from a CUDA or NVRTC call. */
export interface NativeCallError extends Error {
  call?: string;
  code?: number;
  /** cuGetErrorName / nvrtcGetErrorString text; empty when the library does not know the code. */
  codeName?: string;
}

/** Result of {@link NativeAddon.nvrtcCompile}. */
export type NvrtcCompileResult =
  | { ok: true; log: string; binary: Uint8Array }
  | { ok: false; log: string; code: number; codeName: string };

export interface NativeAddon {
  readonly abiVersion: number;

  /** dlopen libcuda at `path`; undefined on success, else why not. Idempotent once loaded. */
  cudaLoad(path: string): string | undefined;
  cudaLoaded(): boolean;
  cuInit(): void;
  cuDriverGetVersion(): number;
  cuDeviceGetCount(): number;
  cuDeviceGet(ordinal: number): number;
  cuDeviceGetName(dev: number): string;
  cuDeviceTotalMem(dev: number): number;
  cuDeviceGetAttribute(attr: number, dev: number): number;
  cuDevicePrimaryCtxRetain(dev: number): Handle;
  cuDevicePrimaryCtxRelease(dev: number): void;
  cuCtxSetCurrent(ctx: Handle): void;
  cuCtxSynchronize(): void;

  /** [free, total] bytes of the current context's device. */
  cuMemGetInfo(): [number, number];
  cuMemAlloc(bytes: number): Handle;
  cuMemFree(ptr: Handle): void;
  /** Copies all of `src`'s bytes; async on `stream` when given. */
  cuMemcpyHtoD(dst: Handle, src: HostView, stream?: Handle): void;
  /** Fills all of `dst`'s bytes; async on `stream` when given (complete on return for pageable memory). */
  cuMemcpyDtoH(dst: HostView, src: Handle, stream?: Handle): void;
  cuMemcpyDtoD(dst: Handle, src: Handle, bytes: number, stream?: Handle): void;
  cuMemsetD8(dst: Handle, value: number, bytes: number, stream?: Handle): void;
  cuStreamCreate(flags: number): Handle;
  cuStreamDestroy(stream: Handle): void;
  cuStreamSynchronize(stream: Handle): void;

  cuModuleLoadData(image: Uint8Array): Handle;
  cuModuleUnload(mod: Handle): void;
  cuModuleGetFunction(mod: Handle, name: string): Handle;
  cuFuncGetAttribute(attr: number, fn: Handle): number;
  cuFuncSetAttribute(fn: Handle, attr: number, value: number): void;
  /** `argBytes` holds each parameter's value at `argOffsets[i]` (see runtime/kernel_args.ts). */
  cuLaunchKernel(
    fn: Handle,
    gx: number, gy: number, gz: number,
    bx: number, by: number, bz: number,
    sharedBytes: number, stream: Handle,
    argBytes: Uint8Array, argOffsets: Uint32Array,
  ): void;
  cuEventCreate(flags: number): Handle;
  cuEventDestroy(ev: Handle): void;
  cuEventRecord(ev: Handle, stream: Handle): void;
  cuEventSynchronize(ev: Handle): void;
  cuEventElapsedTime(start: Handle, end: Handle): number;
  cuStreamBeginCapture(stream: Handle, mode: number): void;
  cuStreamEndCapture(stream: Handle): Handle;
  cuGraphInstantiate(graph: Handle): Handle;
  cuGraphLaunch(exec: Handle, stream: Handle): void;
  cuGraphExecDestroy(exec: Handle): void;
  cuGraphDestroy(graph: Handle): void;

  /** dlopen libnvrtc at `path`; undefined on success, else why not. */
  nvrtcLoad(path: string): string | undefined;
  nvrtcLoaded(): boolean;
  nvrtcVersion(): [number, number];
  /** SM numbers this NVRTC emits CUBIN for (e.g. 90); empty when it cannot say. */
  nvrtcGetSupportedArchs(): number[];
  nvrtcCompile(source: string, name: string, options: readonly string[], cubin: boolean): NvrtcCompileResult;

  /** dlopen a compiled CPU kernel library; throws with dlerror's text. */
  cpuOpen(path: string): Handle;
  cpuClose(lib: Handle): void;
  cpuSymbol(lib: Handle, name: string): Handle;
  /** Calls `extern "C" void f(void* const* args)` with args[i] = the data pointer of views[i]. */
  cpuCall(fn: Handle, views: readonly HostView[]): void;
}
