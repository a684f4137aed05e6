/** Arithmetic with a scalar (MXNet's elemwise_binary_scalar_op_basic/extended). */
import { scalarOp } from "./define.js";
import { mxMod } from "../unary/special_math.js";

export const plusScalar = scalarOp("_plus_scalar", ["_PlusScalar"], "x + scalar", (x, s) => x + s, "identity");
export const minusScalar = scalarOp("_minus_scalar", ["_MinusScalar"], "x − scalar", (x, s) => x - s, "identity");
export const rminusScalar = scalarOp("_rminus_scalar", ["_RMinusScalar"], "scalar − x", (x, s) => s - x, (g) => g.op1("negative", [g.ograd()]));
export const mulScalar = scalarOp("_mul_scalar", ["_MulScalar"], "x · scalar", (x, s) => x * s, (g) =>
  g.op1("_mul_scalar", [g.ograd()], { scalar: g.params.scalar }),
);
export const divScalar = scalarOp("_div_scalar", ["_DivScalar"], "x / scalar", (x, s) => x / s, (g) =>
  g.op1("_div_scalar", [g.ograd()], { scalar: g.params.scalar }),
);
export const rdivScalar = scalarOp("_rdiv_scalar", ["_RDivScalar"], "scalar / x", (x, s) => s / x, { useIn: (x, s) => -s / (x * x) });
export const modScalar = scalarOp("_mod_scalar", ["_ModScalar"], "x mod scalar (sign of the divisor)", mxMod, "identity");
export const rmodScalar = scalarOp("_rmod_scalar", ["_RModScalar"], "scalar mod x (sign of the divisor)", (x, s) => mxMod(s, x), {
  useIn: (x, s) => -Math.floor(s / x),
});
export const powerScalar = scalarOp("_power_scalar", ["_PowerScalar"], "x ** scalar", (x, s) => x ** s, { useIn: (x, s) => s * x ** (s - 1) });
export const rpowerScalar = scalarOp("_rpower_scalar", ["_RPowerScalar"], "scalar ** x", (x, s) => s ** x, { useOut: (y, s) => y * Math.log(s) });
export const maximumScalar = scalarOp("_maximum_scalar", ["_MaximumScalar"], "max(x, scalar); gradient where x ≥ scalar", Math.max, {
  useIn: (x, s) => (x >= s ? 1 : 0),
});
export const minimumScalar = scalarOp("_minimum_scalar", ["_MinimumScalar"], "min(x, scalar); gradient where x ≤ scalar", Math.min, {
  useIn: (x, s) => (x <= s ? 1 : 0),
});
export const hypotScalar = scalarOp("_hypot_scalar", ["_HypotScalar"], "√(x² + scalar²)", Math.hypot, { useIn: (x, s) => x / Math.hypot(x, s) });

export const smoothL1 = scalarOp(
  "smooth_l1",
  [],
  "Smooth L1 with sigma = scalar: 0.5·(σx)² where |x| < 1/σ², else |x| − 0.5/σ²",
  (x, s) => {
    const inv = 1 / (s * s);
    return x > inv ? x - 0.5 * inv : x < -inv ? -x - 0.5 * inv : 0.5 * x * x * s * s;
  },
  {
    useIn: (x, s) => {
      const inv = 1 / (s * s);
      return x > inv ? 1 : x < -inv ? -1 : s * s * x;
    },
  },
);
