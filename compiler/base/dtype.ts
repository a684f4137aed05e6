/** Element types Kiln knows, named as MXNet's Python API names them. */
export type DType = "float32" | "float64" | "float16" | "int32" | "int64" | "uint8" | "int8";

export const DTYPES: readonly DType[] = ["float32", "float64", "float16", "int32", "int64", "uint8", "int8"];

/** MXNet's type flags (mshadow), as stored in `__dtype__` attributes and .params files. */
export const DTYPE_FLAG: Readonly<Record<DType, number>> = {
  float32: 0,
  float64: 1,
  float16: 2,
  uint8: 3,
  int32: 4,
  int8: 5,
  int64: 6,
};

const FLAG_TO_DTYPE = new Map<number, DType>(Object.entries(DTYPE_FLAG).map(([k, v]) => [v, k as DType]));

export function dtypeFromFlag(flag: number): DType {
  const t = FLAG_TO_DTYPE.get(flag);
  if (t === undefined) throw new Error(`unsupported MXNet type flag ${flag} (known: ${[...FLAG_TO_DTYPE.keys()].join(", ")})`);
  return t;
}

export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}

export function checkDType(s: string, where: string): DType {
  if (!isDType(s)) throw new Error(`${where}: unknown dtype "${s}" (expected one of ${DTYPES.join(", ")})`);
  return s;
}

export function isFloatDType(t: DType): boolean {
  return t === "float32" || t === "float64" || t === "float16";
}

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  int8: 1,
};
