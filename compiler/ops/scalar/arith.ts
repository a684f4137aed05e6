/** Arithmetic with a scalar (MXNet's elemwise_binary_scalar_op_basic/extended). */
import { scalarOp } from "./define.js";
import { mxMod, mxModExpr } from "../unary/special_math.js";
import { E, num } from "../../te/expr.js";

export const plusScalar = scalarOp("_plus_scalar", ["_PlusScalar"], "x + scalar", { f: (x, s) => x + s, e: E.add }, "identity");
export const minusScalar = scalarOp("_minus_scalar", ["_MinusScalar"], "x − scalar", { f: (x, s) => x - s, e: E.sub }, "identity");
export const rminusScalar = scalarOp("_rminus_scalar", ["_RMinusScalar"], "scalar − x", { f: (x, s) => s - x, e: (x, s) => E.sub(s, x) }, (g) =>
  g.op1("negative", [g.ograd()]),
);
export const mulScalar = scalarOp("_mul_scalar", ["_MulScalar"], "x · scalar", { f: (x, s) => x * s, e: E.mul }, (g) =>
  g.op1("_mul_scalar", [g.ograd()], { scalar: g.params.scalar }),
);
export const divScalar = scalarOp("_div_scalar", ["_DivScalar"], "x / scalar", { f: (x, s) => x / s, e: E.div }, (g) =>
  g.op1("_div_scalar", [g.ograd()], { scalar: g.params.scalar }),
);
export const rdivScalar = scalarOp("_rdiv_scalar", ["_RDivScalar"], "scalar / x", { f: (x, s) => s / x, e: (x, s) => E.div(s, x) }, {
  useIn: { f: (x, s) => -s / (x * x), e: (x, s) => E.div(-s, E.mul(x, x)) },
});
export const modScalar = scalarOp("_mod_scalar", ["_ModScalar"], "x mod scalar (sign of the divisor)", { f: mxMod, e: mxModExpr }, "identity");
export const rmodScalar = scalarOp("_rmod_scalar", ["_RModScalar"], "scalar mod x (sign of the divisor)", { f: (x, s) => mxMod(s, x), e: (x, s) => mxModExpr(num(s), x) }, {
  useIn: { f: (x, s) => -Math.floor(s / x), e: (x, s) => E.neg(E.fn("floor", E.div(s, x))) },
});
export const powerScalar = scalarOp("_power_scalar", ["_PowerScalar"], "x ** scalar", { f: (x, s) => x ** s, e: E.pow }, {
  useIn: { f: (x, s) => s * x ** (s - 1), e: (x, s) => E.mul(s, E.pow(x, s - 1)) },
});
export const rpowerScalar = scalarOp("_rpower_scalar", ["_RPowerScalar"], "scalar ** x", { f: (x, s) => s ** x, e: (x, s) => E.pow(s, x) }, {
  useOut: { f: (y, s) => y * Math.log(s), e: (y, s) => E.mul(y, Math.log(s)) },
});
export const maximumScalar = scalarOp("_maximum_scalar", ["_MaximumScalar"], "max(x, scalar); gradient where x ≥ scalar", { f: Math.max, e: E.max }, {
  useIn: { f: (x, s) => (x >= s ? 1 : 0), e: E.ge },
});
export const minimumScalar = scalarOp("_minimum_scalar", ["_MinimumScalar"], "min(x, scalar); gradient where x ≤ scalar", { f: Math.min, e: E.min }, {
  useIn: { f: (x, s) => (x <= s ? 1 : 0), e: E.le },
});
export const hypotScalar = scalarOp("_hypot_scalar", ["_HypotScalar"], "√(x² + scalar²)", { f: Math.hypot, e: (x, s) => E.fn("hypot", x, s) }, {
  useIn: { f: (x, s) => x / Math.hypot(x, s), e: (x, s) => E.div(x, E.fn("hypot", x, s)) },
});

export const smoothL1 = scalarOp(
  "smooth_l1",
  [],
  "Smooth L1 with sigma = scalar: 0.5·(σx)² where |x| < 1/σ², else |x| − 0.5/σ²",
  {
    f: (x, s) => {
      const inv = 1 / (s * s);
      return x > inv ? x - 0.5 * inv : x < -inv ? -x - 0.5 * inv : 0.5 * x * x * s * s;
    },
    e: (x, s) => {
      const inv = 1 / (s * s);
      const quadratic = E.mul(E.mul(E.mul(E.mul(0.5, x), x), s), s);
      return E.select(E.gt(x, inv), E.sub(x, 0.5 * inv), E.select(E.lt(x, -inv), E.sub(E.neg(x), 0.5 * inv), quadratic));
    },
  },
  {
    useIn: {
      f: (x, s) => {
        const inv = 1 / (s * s);
        return x > inv ? 1 : x < -inv ? -1 : s * s * x;
      },
      e: (x, s) => {
        const inv = 1 / (s * s);
        return E.select(E.gt(x, inv), 1, E.select(E.lt(x, -inv), -1, E.mul(s * s, x)));
      },
    },
  },
);
