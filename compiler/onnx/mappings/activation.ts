/**
 * Activations and Clip. Direct Kiln counterparts where one exists (relu, sigmoid, tanh,
 * softsign, softrelu, hard_sigmoid, LeakyReLU leaky/elu); compositions for the ONNX forms
 * with free parameters (Selu's alpha and gamma, Celu, PRelu's numpy-broadcast slope, Gelu's
 * tanh approximation, Mish, Swish, Shrink, ThresholdedRelu, HardSwish).
 */
import { Symbol } from "../../symbol/symbol.js";
import type { NodeCtx } from "../node_ctx.js";
import { defineMappings, Mapper } from "./registry.js";
import { out } from "./util.js";

function act(f: (n: NodeCtx, x: Symbol) => Symbol): Mapper {
  return (n) => [out(f(n, n.in(0)), n.isScalar(0))];
}

const mul = (n: NodeCtx, a: Symbol, b: Symbol): Symbol => n.op("broadcast_mul", { lhs: a, rhs: b });
const scale = (n: NodeCtx, x: Symbol, s: number): Symbol => (s === 1 ? x : n.op("_mul_scalar", { data: x, scalar: s }));

const clip: Mapper = (n) => {
  let lo: number | undefined;
  let hi: number | undefined;
  if (n.opset < 11) {
    lo = n.float("min");
    hi = n.float("max");
  } else {
    if (n.has(1)) lo = n.konst(1, "min").values[0];
    if (n.has(2)) hi = n.konst(2, "max").values[0];
  }
  let y = n.in(0);
  if (lo !== undefined) y = n.op("_maximum_scalar", { data: y, scalar: lo });
  if (hi !== undefined) y = n.op("_minimum_scalar", { data: y, scalar: hi });
  if (lo === undefined && hi === undefined) y = n.op("_copy", { data: y });
  return [out(y, n.isScalar(0))];
};

const prelu: Mapper = (n) => {
  const x = n.in(0);
  const neg = n.op("_minimum_scalar", { data: x, scalar: 0 });
  return [n.op("broadcast_add", { lhs: n.op("relu", { data: x }), rhs: mul(n, n.in(1), neg) })];
};

const gelu = act((n, x) => {
  const approx = n.str("approximate", "none");
  if (approx === "none") return n.op("LeakyReLU", { data: x, act_type: "gelu" });
  if (approx !== "tanh") n.fail(`approximate="${approx}" is not none or tanh`);
  const cube = n.op("_power_scalar", { data: x, scalar: 3 });
  const inner = scale(n, n.op("elemwise_add", { lhs: x, rhs: scale(n, cube, 0.044715) }), Math.sqrt(2 / Math.PI));
  const t = n.op("_plus_scalar", { data: n.op("tanh", { data: inner }), scalar: 1 });
  return mul(n, scale(n, x, 0.5), t);
});

const mappings: Record<string, Mapper> = {
  Relu: act((n, x) => n.op("relu", { data: x })),
  Sigmoid: act((n, x) => n.op("sigmoid", { data: x })),
  Tanh: act((n, x) => n.op("tanh", { data: x })),
  Softsign: act((n, x) => n.op("softsign", { data: x })),
  Softplus: act((n, x) => n.op("Activation", { data: x, act_type: "softrelu" })),
  LeakyRelu: act((n, x) => n.op("LeakyReLU", { data: x, act_type: "leaky", slope: n.float("alpha", 0.01) })),
  Elu: act((n, x) => n.op("LeakyReLU", { data: x, act_type: "elu", slope: n.float("alpha", 1) })),
  Selu: act((n, x) => {
    const alpha = n.float("alpha", 1.67326319217681884765625);
    const gamma = n.float("gamma", 1.05070102214813232421875);
    return scale(n, n.op("LeakyReLU", { data: x, act_type: "elu", slope: alpha }), gamma);
  }),
  Celu: act((n, x) => {
    const alpha = n.float("alpha", 1);
    const e = n.op("LeakyReLU", { data: scale(n, x, 1 / alpha), act_type: "elu", slope: 1 });
    return scale(n, e, alpha);
  }),
  ThresholdedRelu: act((n, x) => mul(n, x, n.op("_greater_scalar", { data: x, scalar: n.float("alpha", 1) }))),
  HardSigmoid: act((n, x) => n.op("hard_sigmoid", { data: x, alpha: n.float("alpha", 0.2), beta: n.float("beta", 0.5) })),
  HardSwish: act((n, x) => mul(n, x, n.op("hard_sigmoid", { data: x, alpha: 1 / 6, beta: 0.5 }))),
  Mish: act((n, x) => mul(n, x, n.op("tanh", { data: n.op("Activation", { data: x, act_type: "softrelu" }) }))),
  Swish: act((n, x) => mul(n, x, n.op("sigmoid", { data: scale(n, x, n.float("alpha", 1)) }))),
  Shrink: act((n, x) => {
    const bias = n.float("bias", 0);
    const lambd = n.float("lambd", 0.5);
    const lo = mul(n, n.op("_plus_scalar", { data: x, scalar: bias }), n.op("_lesser_scalar", { data: x, scalar: -lambd }));
    const hi = mul(n, n.op("_minus_scalar", { data: x, scalar: bias }), n.op("_greater_scalar", { data: x, scalar: lambd }));
    return n.op("elemwise_add", { lhs: lo, rhs: hi });
  }),
  Gelu: gelu,
  PRelu: prelu,
  Clip: clip,
};

defineMappings(mappings);
