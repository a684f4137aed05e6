/**
 * Kernel parameter lists and how argument values are laid out for a launch.
 *
 * CUDA and CPU kernels share one calling convention, that of CUDA's `kernelParams`: the
 * kernel receives `void* const* args` where `args[i]` points at parameter i's storage. For an
 * array parameter (`"ptr"`) that storage is the array's data: a C++ kernel reads
 * `float* x = (float*)args[0]`. For a scalar it is the value: `float a = *(const float*)args[1]`.
 * (For CUDA the driver unpacks `args` into the `__global__` function's typed parameters.)
 * float16 scalars travel as their 16 bits (`unsigned short` / `__half` raw bits).
 */
import { DType, DTYPES } from "../compiler/base/dtype.js";
import { KilnError } from "../compiler/base/errors.js";
import { toHalf } from "./host_buffer.js";

/** One kernel parameter: an array (device or host pointer) or a scalar of a dtype. */
export type KernelParam = "ptr" | DType;

/** Every scalar occupies one 8-byte-aligned slot, enough for any dtype. */
export const ARG_SLOT_BYTES = 8;

export function checkParams(params: readonly KernelParam[], where: string): readonly KernelParam[] {
  for (const p of params) {
    if (p !== "ptr" && !(DTYPES as readonly string[]).includes(p))
      throw new KilnError(`${where}: unknown kernel parameter type "${p}" (expected "ptr" or one of ${DTYPES.join(", ")})`);
  }
  return Object.freeze([...params]);
}

/** Writes `value` as a scalar of `dtype` at `offset` (little-endian, as the kernel reads it). */
export function writeScalar(view: DataView, offset: number, dtype: DType, value: number | bigint, where: string): void {
  if (typeof value === "bigint") {
    if (dtype === "int64") return view.setBigInt64(offset, value, true);
    value = Number(value);
  }
  if (typeof value !== "number") throw new KilnError(`${where}: expected a number for a ${dtype} scalar, got ${typeof value}`);
  switch (dtype) {
    case "float32":
      return view.setFloat32(offset, value, true);
    case "float64":
      return view.setFloat64(offset, value, true);
    case "float16":
      return view.setUint16(offset, toHalf(value), true);
    case "int32":
      return view.setInt32(offset, Math.trunc(value), true);
    case "int64":
      return view.setBigInt64(offset, BigInt(Math.trunc(Number.isFinite(value) ? value : 0)), true);
    case "uint8":
      return view.setUint8(offset, Math.trunc(value) & 0xff);
    case "int8":
      return view.setInt8(offset, Math.trunc(value));
  }
}
