/**
 * Evaluates stages in float64: the living definition of the IR's semantics. Tests compare it
 * with the reference implementations (is each compute rule right?) and with generated code
 * (is the renderer right?).
 */
import { Expr } from "./expr.js";
import { Stage } from "./stage.js";
import { SCALAR_FNS } from "./scalar_fns.js";
import { Tensor, forEachIndex } from "../ops/tensor.js";

type Env = Map<string, number>;

function intOf(x: number, dtype: string): number {
  return dtype.startsWith("float") ? x : Math.trunc(x);
}

const INT_RANGE: Record<string, [number, number]> = { uint8: [0, 2 ** 8], int8: [-(2 ** 7), 2 ** 8], int32: [-(2 ** 31), 2 ** 32], int64: [-(2 ** 63), 2 ** 64] };

/** C's conversion through a 64-bit integer: truncate toward zero, then wrap into the type's range. */
function castTo(x: number, dtype: string): number {
  const r = INT_RANGE[dtype];
  if (!r) return x;
  const t = Math.trunc(x);
  // In range: nothing to wrap (and for int64, t - r[0] would round away t's low bits in float64).
  if (t >= r[0] && t < r[0] + r[1]) return t;
  return ((((t - r[0]) % r[1]) + r[1]) % r[1]) + r[0];
}

export function evalExpr(e: Expr, env: Env, inputs: readonly Tensor[]): number {
  switch (e.kind) {
    case "var": {
      const x = env.get(e.name);
      if (x === undefined) throw new Error(`unbound variable ${e.name}`);
      return x;
    }
    case "const":
      return e.value;
    case "load": {
      const t = inputs[e.tensor];
      let off = 0;
      for (let d = 0; d < t.ndim; d++) {
        const i = evalExpr(e.index[d], env, inputs);
        if (!(i >= 0 && i < t.shape[d] && Number.isInteger(i)))
          throw new Error(`load of tensor ${e.tensor} out of bounds: index ${i} in dim ${d} of (${t.shape.join(",")})`);
        off = off * t.shape[d] + i;
      }
      return t.data[off];
    }
    case "call":
      return SCALAR_FNS[e.fn](...e.args.map((a) => evalExpr(a, env, inputs)));
    case "select":
      return evalExpr(e.cond, env, inputs) !== 0 ? evalExpr(e.a, env, inputs) : evalExpr(e.b, env, inputs);
    case "cast":
      return castTo(evalExpr(e.x, env, inputs), e.dtype);
  }
}

/** Calls f for every point of a list of axes (row-major), binding their names in env. */
function forAxes(axes: readonly { name: string; extent: number }[], env: Env, f: (flat: number) => void): void {
  forEachIndex(
    axes.map((a) => a.extent),
    (idx, flat) => {
      axes.forEach((a, k) => env.set(a.name, idx[k]));
      f(flat);
    },
  );
}

export function evalStage(stage: Stage, inputs: readonly Tensor[]): Tensor {
  const out = new Tensor(stage.out.shape);
  const body = stage.body;
  const env: Env = new Map();
  if (body.kind === "scatter") {
    forAxes(body.axes, env, () => {
      const idx = body.index.map((e) => evalExpr(e, env, inputs));
      out.data[out.offset(idx)] += evalExpr(body.value, env, inputs);
    });
    return out;
  }
  forEachIndex(stage.out.shape, (idx, flat) => {
    stage.vars.forEach((name, d) => env.set(name, idx[d]));
    let value: number;
    if (body.kind === "map") value = evalExpr(body.value, env, inputs);
    else {
      let acc = body.op === "sum" ? 0 : body.op === "prod" ? 1 : body.op === "max" ? -Infinity : Infinity;
      let best = -1;
      let bestValue = NaN;
      forAxes(body.axes, env, (k) => {
        const x = evalExpr(body.value, env, inputs);
        switch (body.op) {
          case "sum":
            acc += x;
            break;
          case "prod":
            acc *= x;
            break;
          // NaN propagates (as ScalarFn max/min and MXNet's red::maximum/minimum).
          case "max":
            acc = x > acc || Number.isNaN(x) ? x : acc;
            break;
          case "min":
            acc = x < acc || Number.isNaN(x) ? x : acc;
            break;
          case "argmax":
          case "argmin":
            if (best < 0 || (body.op === "argmax" ? x > bestValue : x < bestValue)) {
              best = k;
              bestValue = x;
            }
        }
      });
      if (body.op === "argmax" || body.op === "argmin") acc = best;
      value = body.post ? evalExpr(body.post, new Map([...env, ["acc", acc]]), inputs) : acc;
    }
    out.data[flat] = intOf(value, stage.out.dtype);
  });
  return out;
}
