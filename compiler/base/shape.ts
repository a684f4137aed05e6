/**
 * Shapes follow MXNet's legacy convention: a dimension of 0 is unknown, and an unknown
 * shape is `undefined` inside the compiler (printed as `()` / returned as `[]` by the API).
 */
export type Shape = readonly number[];

export function shapeToString(s: Shape | undefined): string {
  if (s === undefined) return "()";
  return s.length === 1 ? `(${s[0]},)` : `(${s.join(",")})`;
}

/** MXNet's own bracket form used in its error messages: `[1,100]`. */
export function shapeToBracket(s: Shape | undefined): string {
  return s === undefined ? "[]" : `[${s.join(",")}]`;
}

export function isShapeKnown(s: Shape | undefined): s is Shape {
  return s !== undefined && s.every((d) => d > 0);
}

export function shapeSize(s: Shape): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}

export function shapesEqual(a: Shape | undefined, b: Shape | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Number of unknown dims (an unknown shape counts as one unknown). */
export function unknownDims(s: Shape | undefined): number {
  if (s === undefined) return 1;
  let n = 0;
  for (const d of s) if (d === 0) n++;
  return n;
}

/**
 * Merges what is known of two descriptions of one shape. Returns undefined when they
 * disagree (a different rank, or two different known sizes of one dim).
 */
export function mergeShapes(a: Shape | undefined, b: Shape | undefined): { ok: boolean; shape: Shape | undefined } {
  if (a === undefined) return { ok: true, shape: b };
  if (b === undefined) return { ok: true, shape: a };
  if (a.length !== b.length) return { ok: false, shape: a };
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) out.push(b[i]);
    else if (b[i] === 0 || b[i] === a[i]) out.push(a[i]);
    else return { ok: false, shape: a };
  }
  return { ok: true, shape: out };
}

/** Row-major strides of a shape. */
export function stridesOf(s: Shape): number[] {
  const st = new Array<number>(s.length);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

/** Normalizes a possibly negative axis against a rank; throws when out of range. */
export function normalizeAxis(axis: number, ndim: number, what = "axis"): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) throw new Error(`${what} ${axis} is out of range for ${ndim} dimensions`);
  return a;
}
