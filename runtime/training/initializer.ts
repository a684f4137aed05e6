/**
 * Parameter initializers as MXNet's `mx.init`. An initializer fills an array by its name:
 * `*_weight` gets the initializer's own distribution, `*_bias`/`*_beta`/`*_moving_mean` 0,
 * `*_gamma`/`*_moving_var` 1 (MXNet's rules, listed in `Initializer.init`). A variable's
 * `__init__` attribute (e.g. `sym.Variable("w", { init: new Zero().dumps() })`) wins over the
 * name. Random values come from the shared seeded generator (`seed(n)`).
 */
import { KilnError } from "../../compiler/base/errors.js";
import { shapeToString, shapesEqual } from "../../compiler/base/shape.js";
import { NDArray } from "../ndarray.js";
import { loadParams } from "../params_file.js";
import { globalRandom } from "./random.js";

export { seed } from "./random.js";

type InitKwargs = Record<string, number | string | boolean>;

export abstract class Initializer {
  /** The constructor arguments, for `dumps()` (MXNet's `_kwargs`). */
  protected readonly kwargs: InitKwargs;

  constructor(kwargs: InitKwargs = {}) {
    this.kwargs = kwargs;
  }

  /**
   * Fills `arr` for the parameter `name`. With an `__init__` attribute in `attrs`, that
   * initializer's weight rule fills it. Otherwise, by the end of the name (MXNet's rules):
   * `upsampling*` bilinear; `stn_loc*_weight` 0, `stn_loc*_bias` the identity transform;
   * `*bias` 0, `*gamma` 1, `*beta` 0, `*weight` this initializer's weight rule,
   * `*moving_mean` 0, `*moving_var` 1, `*moving_inv_var` 0, `*moving_avg` 0, `*min` 0,
   * `*max` 1; any other name is an error.
   */
  init(name: string, arr: NDArray, attrs?: Record<string, string>): void {
    if (typeof name !== "string") throw new KilnError(`Initializer: parameter name must be a string, got ${typeof name}`);
    if (!(arr instanceof NDArray)) throw new KilnError(`Initializer: ${name} is not an NDArray`);
    const desc = attrs?.__init__;
    if (desc) {
      create(desc).initWeight(name, arr);
      return;
    }
    if (name.startsWith("upsampling")) fillBilinear(name, arr);
    else if (name.startsWith("stn_loc") && name.endsWith("weight")) arr.set(0);
    else if (name.startsWith("stn_loc") && name.endsWith("bias")) fillLocBias(name, arr);
    else if (name.endsWith("bias")) this.initBias(name, arr);
    else if (name.endsWith("gamma")) this.initGamma(name, arr);
    else if (name.endsWith("beta")) this.initBeta(name, arr);
    else if (name.endsWith("weight")) this.initWeight(name, arr);
    else if (name.endsWith("moving_mean") || name.endsWith("moving_inv_var") || name.endsWith("moving_avg") || name.endsWith("min")) arr.set(0);
    else if (name.endsWith("moving_var") || name.endsWith("max")) arr.set(1);
    else this.initDefault(name, arr);
  }

  /** MXNet's serialized form, `["<class name lowercased>", {kwargs}]`, as stored in `__init__` attributes. */
  dumps(): string {
    const body = Object.entries(this.kwargs)
      .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
      .join(", ");
    return `[${JSON.stringify(this.constructor.name.toLowerCase())}, {${body}}]`;
  }

  toString(): string {
    return this.dumps();
  }

  protected abstract initWeight(name: string, arr: NDArray): void;

  protected initBias(_name: string, arr: NDArray): void {
    arr.set(0);
  }

  protected initGamma(_name: string, arr: NDArray): void {
    arr.set(1);
  }

  protected initBeta(_name: string, arr: NDArray): void {
    arr.set(0);
  }

  protected initDefault(name: string, _arr: NDArray): void {
    throw new KilnError(
      `Unknown initialization pattern for ${name}. Default initialization is limited to names ending in "weight", "bias", ` +
        `"gamma" (1.0), "beta" (0.0), "moving_mean" (0.0) and "moving_var" (1.0); give the variable an initializer ` +
        `(sym.Variable(name, { init: new Xavier().dumps() })) or use Mixed`,
    );
  }
}

/** Uniform in [-scale, scale). */
export class Uniform extends Initializer {
  constructor(readonly scale = 0.07) {
    super({ scale });
  }
  protected initWeight(_name: string, arr: NDArray): void {
    arr.set(globalRandom.uniformArray(arr.size, -this.scale, this.scale));
  }
}

/** Normal with mean 0 and standard deviation sigma. */
export class Normal extends Initializer {
  constructor(readonly sigma = 0.01) {
    super({ sigma });
  }
  protected initWeight(_name: string, arr: NDArray): void {
    arr.set(globalRandom.normalArray(arr.size, 0, this.sigma));
  }
}

export type XavierRndType = "uniform" | "gaussian";
export type XavierFactorType = "avg" | "in" | "out";

/**
 * Glorot/Xavier: for a weight of shape (out, in, k…), fan_in = in·prod(k), fan_out =
 * out·prod(k); scale = sqrt(magnitude / factor) with factor (fan_in + fan_out)/2, fan_in or
 * fan_out; then uniform in [-scale, scale) or normal with standard deviation scale.
 */
export class Xavier extends Initializer {
  readonly rndType: XavierRndType;
  readonly factorType: XavierFactorType;
  readonly magnitude: number;

  /** MXNet's keyword form `new Xavier({ rnd_type: "gaussian", factor_type: "in", magnitude: 2 })`, or positional. */
  constructor(opts?: { rnd_type?: XavierRndType; factor_type?: XavierFactorType; magnitude?: number });
  constructor(rndType?: XavierRndType, factorType?: XavierFactorType, magnitude?: number);
  constructor(
    first: XavierRndType | { rnd_type?: XavierRndType; factor_type?: XavierFactorType; magnitude?: number } = "uniform",
    factor: XavierFactorType = "avg",
    mag = 3,
  ) {
    const o = typeof first === "object" ? first : { rnd_type: first, factor_type: factor, magnitude: mag };
    const rndType = o.rnd_type ?? "uniform";
    const factorType = o.factor_type ?? "avg";
    const magnitude = o.magnitude ?? 3;
    super({ rnd_type: rndType, factor_type: factorType, magnitude });
    if (rndType !== "uniform" && rndType !== "gaussian") throw new KilnError(`Xavier: rnd_type must be "uniform" or "gaussian", got ${JSON.stringify(rndType)}`);
    if (factorType !== "avg" && factorType !== "in" && factorType !== "out")
      throw new KilnError(`Xavier: factor_type must be "avg", "in" or "out", got ${JSON.stringify(factorType)}`);
    this.rndType = rndType;
    this.factorType = factorType;
    this.magnitude = magnitude;
  }

  /** The scale this initializer uses for an array of `shape`. */
  scaleFor(name: string, shape: readonly number[]): number {
    if (shape.length < 2)
      throw new KilnError(`${this.constructor.name} initializer cannot be applied to ${name} of shape ${shapeToString(shape)}: it needs at least 2 dimensions`);
    let hw = 1;
    for (const d of shape.slice(2)) hw *= d;
    const fanIn = shape[1] * hw;
    const fanOut = shape[0] * hw;
    const factor = this.factorType === "avg" ? (fanIn + fanOut) / 2 : this.factorType === "in" ? fanIn : fanOut;
    return Math.sqrt(this.magnitude / factor);
  }

  protected initWeight(name: string, arr: NDArray): void {
    const scale = this.scaleFor(name, arr.shape);
    arr.set(this.rndType === "uniform" ? globalRandom.uniformArray(arr.size, -scale, scale) : globalRandom.normalArray(arr.size, 0, scale));
  }
}

/** He/MSRA for PReLU nets: Xavier "gaussian" with magnitude 2/(1 + slope²). */
export class MSRAPrelu extends Xavier {
  readonly slope: number;
  /** MXNet's keyword form `new MSRAPrelu({ factor_type: "in", slope: 0 })`, or positional. */
  constructor(opts?: { factor_type?: XavierFactorType; slope?: number });
  constructor(factorType?: XavierFactorType, slope?: number);
  constructor(first: XavierFactorType | { factor_type?: XavierFactorType; slope?: number } = "avg", slopeArg = 0.25) {
    const factorType = (typeof first === "object" ? first.factor_type : first) ?? "avg";
    const slope = (typeof first === "object" ? first.slope : slopeArg) ?? 0.25;
    super("gaussian", factorType, 2 / (1 + slope * slope));
    this.slope = slope;
    for (const k of Object.keys(this.kwargs)) delete this.kwargs[k];
    Object.assign(this.kwargs, { factor_type: factorType, slope });
  }
}

/** Every weight set to `value`. */
export class Constant extends Initializer {
  constructor(readonly value: number) {
    super({ value });
    if (typeof value !== "number") throw new KilnError(`Constant initializer: value must be a number, got ${typeof value}`);
  }
  protected initWeight(_name: string, arr: NDArray): void {
    arr.set(this.value);
  }
}

/** Weights 0. */
export class Zero extends Initializer {
  protected initWeight(_name: string, arr: NDArray): void {
    arr.set(0);
  }
}

/** Weights 1. */
export class One extends Initializer {
  protected initWeight(_name: string, arr: NDArray): void {
    arr.set(1);
  }
}

/** The bilinear upsampling kernel (for Deconvolution weights of shape (…, h, w)). */
export class Bilinear extends Initializer {
  protected initWeight(name: string, arr: NDArray): void {
    fillBilinear(name, arr);
  }
}

/**
 * Values from saved parameters (a .params path or arrays by name; `arg:`/`aux:` prefixes are
 * dropped), with `defaultInit` for names not found. Shapes must match.
 */
export class Load extends Initializer {
  readonly params: Record<string, NDArray>;
  readonly defaultInit: Initializer | undefined;
  readonly verbose: boolean;
  private readonly log: (msg: string) => void;

  constructor(params: string | Record<string, NDArray>, defaultInit?: Initializer, verbose = false, log: (msg: string) => void = console.log) {
    super();
    const loaded: Record<string, NDArray> | NDArray[] = typeof params === "string" ? loadParams(params) : params;
    if (Array.isArray(loaded) || loaded === null || typeof loaded !== "object")
      throw new KilnError(`Load initializer: ${typeof params === "string" ? params : "params"} holds no names; expected arrays by name`);
    this.params = {};
    for (const [k, v] of Object.entries(loaded)) this.params[k.startsWith("arg:") || k.startsWith("aux:") ? k.slice(4) : k] = v;
    this.defaultInit = defaultInit;
    this.verbose = verbose;
    this.log = log;
  }

  override init(name: string, arr: NDArray, attrs?: Record<string, string>): void {
    const src = this.params[name];
    if (src !== undefined) {
      if (!shapesEqual(src.shape, arr.shape))
        throw new KilnError(`Parameter ${name} cannot be initialized from loading: shape mismatch, target ${shapeToString(arr.shape)} vs loaded ${shapeToString(src.shape)}`);
      src.copyTo(arr);
      if (this.verbose) this.log(`Initialized ${name} by loading`);
      return;
    }
    if (!this.defaultInit) throw new KilnError(`Cannot initialize ${name}: not found in the loaded parameters and no default initializer was given`);
    this.defaultInit.init(name, arr, attrs);
    if (this.verbose) this.log(`Initialized ${name} by default`);
  }

  protected initWeight(name: string, arr: NDArray): void {
    this.init(name, arr);
  }
}

/** The initializer of the first pattern (a regular expression matched at the start of the name) that matches. */
export class Mixed extends Initializer {
  private readonly map: [RegExp, Initializer][];

  constructor(patterns: (string | RegExp)[], initializers: Initializer[]) {
    super();
    if (!Array.isArray(patterns) || !Array.isArray(initializers) || patterns.length !== initializers.length)
      throw new KilnError(`Mixed initializer: patterns and initializers must be lists of one length, got ${patterns?.length} and ${initializers?.length}`);
    this.map = patterns.map((p, i) => {
      if (!(initializers[i] instanceof Initializer)) throw new KilnError(`Mixed initializer: initializers[${i}] is not an Initializer`);
      return [new RegExp(`^(?:${typeof p === "string" ? p : p.source})`, typeof p === "string" ? "" : p.flags.replace("g", "")), initializers[i]];
    });
  }

  override init(name: string, arr: NDArray, attrs?: Record<string, string>): void {
    for (const [re, init] of this.map)
      if (re.test(name)) {
        init.init(name, arr, attrs);
        return;
      }
    throw new KilnError(`Parameter name ${name} did not match any pattern of the Mixed initializer; add a ".*" pattern at the end with a default initializer`);
  }

  protected initWeight(name: string, arr: NDArray): void {
    this.init(name, arr);
  }
}

const REGISTRY: Record<string, (kw: Record<string, unknown>) => Initializer> = {
  uniform: (kw) => new Uniform(num(kw, "scale", 0.07)),
  normal: (kw) => new Normal(num(kw, "sigma", 0.01)),
  xavier: (kw) => new Xavier(str(kw, "rnd_type", "uniform") as XavierRndType, str(kw, "factor_type", "avg") as XavierFactorType, num(kw, "magnitude", 3)),
  msraprelu: (kw) => new MSRAPrelu(str(kw, "factor_type", "avg") as XavierFactorType, num(kw, "slope", 0.25)),
  constant: (kw) => new Constant(num(kw, "value", NaN)),
  zero: () => new Zero(),
  zeros: () => new Zero(),
  one: () => new One(),
  ones: () => new One(),
  bilinear: () => new Bilinear(),
};

/**
 * An initializer from an instance (returned as is), a name ("uniform", "normal", "xavier",
 * "msraprelu", "constant", "zero"/"zeros", "one"/"ones", "bilinear") with keyword arguments
 * in MXNet's names, or MXNet's serialized form `'["xavier", {"magnitude": 2}]'`.
 */
export function create(init: string | Initializer, kwargs: Record<string, unknown> = {}): Initializer {
  if (init instanceof Initializer) return init;
  if (typeof init !== "string") throw new KilnError(`init.create: expected an initializer or its name, got ${typeof init}`);
  let name = init;
  let kw = kwargs;
  if (init.trim().startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(init);
    } catch (e) {
      throw new KilnError(`init.create: cannot parse initializer description ${init}: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed) || typeof parsed[0] !== "string" || (parsed.length > 1 && (typeof parsed[1] !== "object" || parsed[1] === null)))
      throw new KilnError(`init.create: initializer description must be ["name", {kwargs}], got ${init}`);
    name = parsed[0];
    kw = { ...(parsed[1] as Record<string, unknown>), ...kwargs };
  }
  const make = REGISTRY[name.toLowerCase()];
  if (!make) throw new KilnError(`init.create: unknown initializer ${JSON.stringify(name)} (known: ${Object.keys(REGISTRY).join(", ")})`);
  return make(kw);
}

function num(kw: Record<string, unknown>, key: string, dflt: number): number {
  const v = kw[key];
  if (v === undefined) {
    if (Number.isNaN(dflt)) throw new KilnError(`init.create: ${key} is required`);
    return dflt;
  }
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || Number.isNaN(n)) throw new KilnError(`init.create: ${key} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function str(kw: Record<string, unknown>, key: string, dflt: string): string {
  const v = kw[key];
  if (v === undefined) return dflt;
  if (typeof v !== "string") throw new KilnError(`init.create: ${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function fillBilinear(name: string, arr: NDArray): void {
  const s = arr.shape;
  if (s.length < 2) throw new KilnError(`bilinear initialization of ${name} needs at least 2 dimensions, got ${shapeToString(s)}`);
  const w = s[s.length - 1];
  const h = s[s.length - 2];
  const f = Math.ceil(w / 2);
  const c = (2 * f - 1 - (f % 2)) / (2 * f);
  const out = new Float64Array(arr.size);
  for (let i = 0; i < out.length; i++) {
    const x = i % w;
    const y = Math.floor(i / w) % h;
    out[i] = (1 - Math.abs(x / f - c)) * (1 - Math.abs(y / f - c));
  }
  arr.set(out);
}

function fillLocBias(name: string, arr: NDArray): void {
  if (arr.size !== 6) throw new KilnError(`${name}: the spatial transformer's localization bias needs 6 values, got shape ${shapeToString(arr.shape)}`);
  arr.set([1, 0, 0, 0, 1, 0]);
}
