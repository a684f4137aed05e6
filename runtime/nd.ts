/**
 * `nd`: creating arrays and running operators on them, as MXNet's `mx.nd`. Every public op of
 * the registry is here as `nd.<op>({ inputs…, params…, out?, ctx? })` (runtime/imperative):
 * it runs at once, in inference mode (MXNet's imperative mode with autograd off), compiled
 * once per op, params, shapes, dtypes and context.
 */
import { shapeSize, shapeToString } from "../compiler/base/shape.js";
import { KilnError } from "../compiler/base/errors.js";
import { cpu } from "./context.js";
import { NDArray, ArrayOptions } from "./ndarray.js";
import { saveParams, loadParams } from "./params_file.js";
import { buildNdOps, NDOpFunctions } from "./imperative/ops.js";
import "./imperative/arithmetic.js";

function make(shape: readonly number[], opts: ArrayOptions | undefined, fill?: number): NDArray {
  const a = new NDArray(shape, opts?.dtype ?? "float32", opts?.ctx ?? cpu());
  if (fill !== undefined && fill !== 0) a.set(fill);
  return a;
}


const creation = {
  /** From a flat or nested list of numbers; `shape` defaults to the nesting. */
  array(values: ArrayLike<number> | NestedNumbers, opts?: ArrayOptions): NDArray {
    const { flat, shape } = flatten(values);
    const s = opts?.shape ?? shape;
    const a = make(s, opts);
    a.set(flat);
    return a;
  },
  zeros: (shape: readonly number[], opts?: ArrayOptions): NDArray => make(shape, opts),
  ones: (shape: readonly number[], opts?: ArrayOptions): NDArray => make(shape, opts, 1),
  /** Uninitialized in MXNet; zeros here, since host memory is zeroed anyway. */
  empty: (shape: readonly number[], opts?: ArrayOptions): NDArray => make(shape, opts),
  full: (shape: readonly number[], value: number, opts?: ArrayOptions): NDArray => make(shape, opts, value),
  /** Writes arrays (a record of named arrays, or a list) to an MXNet .params file (format V2). */
  save: (path: string, arrays: Record<string, NDArray> | NDArray[]): void => saveParams(path, arrays),
  /** Reads an MXNet .params file of any version; a truncated or corrupt file fails naming the byte offset. */
  load: (path: string): Record<string, NDArray> | NDArray[] => loadParams(path),
};

/** The functions of `nd`: the creation functions above (which win over the ops `zeros`/`ones`, aliases of `_zeros`/`_ones`) and one per op. */
export type ND = Omit<NDOpFunctions, keyof typeof creation> & typeof creation;

export const nd: ND = { ...buildNdOps(), ...creation };

export type NestedNumbers = number | readonly NestedNumbers[];

function flatten(values: ArrayLike<number> | NestedNumbers): { flat: number[]; shape: number[] } {
  if (typeof values === "number") return { flat: [values], shape: [] };
  const shape: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  if (!Array.isArray(values)) return { flat: Array.from(values as ArrayLike<number>), shape: [(values as ArrayLike<number>).length] };
  const flat = (values as unknown[]).flat(Infinity as 1) as number[];
  if (flat.length !== shapeSize(shape)) throw new KilnError(`nd.array: ragged nested list (shape ${shapeToString(shape)} but ${flat.length} values)`);
  return { flat, shape };
}
