/**
 * Operator parameters: typed specs that parse MXNet's attribute strings ("(3, 3)", "True",
 * "1e-05") and print values back the way MXNet writes them, so JSON round-trips.
 */
import { ParamError } from "../base/errors.js";
import { DType, DTYPES, isDType } from "../base/dtype.js";

export interface ParamSpec<T, U = T> {
  /** What the TypeScript API accepts (e.g. a number for a one-element tuple). */
  readonly _user?: U;
  readonly kind: string;
  /** Default when absent; `undefined` with `required` means the param must be given. */
  readonly default: T | undefined;
  readonly required: boolean;
  readonly doc: string;
  parse(s: string): T;
  /** Normalizes a value given through the TypeScript API; throws on a wrong type. */
  fromUser(v: U): T;
  print(v: T): string;
}

export type ParamSchema = Record<string, ParamSpec<any, any>>;

/** Parsed parameter values of a schema. */
export type ParamValues<S extends ParamSchema> = { -readonly [K in keyof S]: S[K] extends ParamSpec<infer T, any> ? T : never };

type RequiredKeys<S extends ParamSchema> = { [K in keyof S]: S[K] extends { required: true } ? K : never }[keyof S];

/** What a caller of `sym.Op({...})` passes: required params mandatory, the rest optional. */
export type ParamArgs<S extends ParamSchema> = {
  [K in RequiredKeys<S>]: S[K] extends ParamSpec<any, infer U> ? U : never;
} & {
  [K in Exclude<keyof S, RequiredKeys<S>>]?: S[K] extends ParamSpec<any, infer U> ? U : never;
};

/** Python's repr of a float, which is what MXNet's attribute strings hold. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const ax = Math.abs(x);
  if (ax !== 0 && (ax < 1e-4 || ax >= 1e16)) {
    const [m, e] = x.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(x);
}

function parseNumber(s: string, what: string): number {
  const t = s.trim();
  const lower = t.toLowerCase();
  if (lower === "inf" || lower === "+inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  const x = Number(t.endsWith("L") ? t.slice(0, -1) : t);
  if (t === "" || Number.isNaN(x)) throw new ParamError(`cannot parse ${what} from "${s}"`);
  return x;
}

function parseIntStrict(s: string, what: string): number {
  const x = parseNumber(s, what);
  if (!Number.isInteger(x)) throw new ParamError(`expected an integer for ${what}, got "${s}"`);
  return x;
}

function makeSpec<T, U>(
  kind: string,
  parse: (s: string) => T,
  print: (v: T) => string,
  fromUser: (v: U) => T,
): {
  (def: T, doc?: string): ParamSpec<T, U> & { required: false };
  required(doc?: string): ParamSpec<T, U> & { required: true };
  optional(doc?: string): ParamSpec<T | null, U | null> & { required: false };
} {
  const build = (def: T | undefined, required: boolean, doc: string): ParamSpec<T, U> => ({
    kind,
    default: def,
    required,
    doc,
    parse,
    print,
    fromUser,
  });
  const f = ((def: T, doc = "") => build(def, false, doc)) as ReturnType<typeof makeSpec<T, U>>;
  f.required = (doc = "") => build(undefined, true, doc) as ParamSpec<T, U> & { required: true };
  f.optional = (doc = "") =>
    ({
      kind: `${kind}?`,
      default: null,
      required: false,
      doc,
      parse: (s: string) => (s.trim() === "None" || s.trim() === "" ? null : parse(s)),
      print: (v: T | null) => (v === null ? "None" : print(v)),
      fromUser: (v: U | null) => (v === null || v === undefined ? null : fromUser(v)),
    }) as ParamSpec<T | null, U | null> & { required: false };
  return f;
}

const checkNumber = (v: unknown, what: string): number => {
  if (typeof v !== "number") throw new ParamError(`expected a number for ${what}, got ${JSON.stringify(v)}`);
  return v;
};

function parseTupleItems(s: string): string[] {
  const t = s.trim();
  const inner = /^[([]/.test(t) ? t.slice(1, -1) : t;
  return inner
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

function printTuple(items: string[]): string {
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
}

export const P = {
  int: makeSpec<number, number>(
    "int",
    (s) => parseIntStrict(s, "int"),
    (v) => String(v),
    (v) => {
      const x = checkNumber(v, "int");
      if (!Number.isInteger(x)) throw new ParamError(`expected an integer, got ${x}`);
      return x;
    },
  ),
  float: makeSpec<number, number>(
    "float",
    (s) => parseNumber(s, "float"),
    pythonFloat,
    (v) => checkNumber(v, "float"),
  ),
  bool: makeSpec<boolean, boolean>(
    "bool",
    (s) => {
      const t = s.trim().toLowerCase();
      if (t === "true" || t === "1") return true;
      if (t === "false" || t === "0") return false;
      throw new ParamError(`cannot parse bool from "${s}"`);
    },
    (v) => (v ? "True" : "False"),
    (v) => {
      if (typeof v !== "boolean") throw new ParamError(`expected a boolean, got ${JSON.stringify(v)}`);
      return v;
    },
  ),
  /** A tuple of ints, "(3, 3)"; the API also takes a single number as a one-element tuple. */
  tuple: makeSpec<number[], number[] | number>(
    "tuple",
    (s) => parseTupleItems(s).map((x) => parseIntStrict(x, "tuple element")),
    (v) => printTuple(v.map(String)),
    (v) => (typeof v === "number" ? [checkNumber(v, "tuple")] : Array.from(v, (x) => checkNumber(x, "tuple element"))),
  ),
  /** A tuple whose items may be None (slice's begin/end/step). */
  tupleOfOptional: makeSpec<(number | null)[], (number | null)[]>(
    "tuple",
    (s) => parseTupleItems(s).map((x) => (x === "None" ? null : parseIntStrict(x, "tuple element"))),
    (v) => printTuple(v.map((x) => (x === null ? "None" : String(x)))),
    (v) => Array.from(v, (x) => (x === null ? null : checkNumber(x, "tuple element"))),
  ),
  str: makeSpec<string, string>(
    "string",
    (s) => s,
    (v) => v,
    (v) => {
      if (typeof v !== "string") throw new ParamError(`expected a string, got ${JSON.stringify(v)}`);
      return v;
    },
  ),
  dtype: makeSpec<DType, DType>(
    "dtype",
    (s) => {
      if (!isDType(s.trim())) throw new ParamError(`unknown dtype "${s}" (expected one of ${DTYPES.join(", ")})`);
      return s.trim() as DType;
    },
    (v) => v,
    (v) => {
      if (!isDType(v)) throw new ParamError(`unknown dtype "${v}" (expected one of ${DTYPES.join(", ")})`);
      return v;
    },
  ),
  /** One of a fixed set of strings. */
  enum<const E extends string>(values: readonly E[], def?: E, doc = ""): ParamSpec<E, E> & { required: boolean } {
    const check = (s: string): E => {
      if (!(values as readonly string[]).includes(s)) throw new ParamError(`"${s}" is not one of ${values.join(", ")}`);
      return s as E;
    };
    return {
      kind: `{${values.join(", ")}}`,
      default: def,
      required: def === undefined,
      doc,
      parse: (s) => check(s.trim().replace(/^'(.*)'$/, "$1")),
      print: (v) => v,
      fromUser: (v) => check(v),
    };
  },
};

/** Parses an attribute dict against a schema; unknown keys are ignored (they may be user attrs). */
export function parseParams<S extends ParamSchema>(schema: S, attrs: Readonly<Record<string, string>>, where: string): ParamValues<S> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const raw = attrs[key];
    if (raw === undefined) {
      if (spec.required) throw new ParamError(`${where}: required parameter "${key}" (${spec.kind}) is missing`);
      out[key] = spec.default;
      continue;
    }
    try {
      out[key] = spec.parse(raw);
    } catch (e) {
      throw new ParamError(`${where}: parameter "${key}" (${spec.kind}): ${(e as Error).message}`);
    }
  }
  return out as ParamValues<S>;
}

/** Turns values given through the TypeScript API into MXNet attribute strings. */
export function printUserParams(schema: ParamSchema, args: Readonly<Record<string, unknown>>, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const v = args[key];
    if (v === undefined) continue;
    try {
      out[key] = spec.print(spec.fromUser(v));
    } catch (e) {
      throw new ParamError(`${where}: parameter "${key}" (${spec.kind}): ${(e as Error).message}`);
    }
  }
  return out;
}
