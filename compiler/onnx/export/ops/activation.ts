/** Activation (relu, sigmoid, tanh, softrelu, softsign) and the unary relu/sigmoid/tanh ops. */
import { defineEmitters, Emitter } from "../emitter.js";

const ACT: Record<string, string> = { relu: "Relu", sigmoid: "Sigmoid", tanh: "Tanh", softrelu: "Softplus", softsign: "Softsign" };

const unary =
  (opType: string): Emitter =>
  (ctx) =>
    ctx.add(opType, [ctx.input(0)], [ctx.output()]);

defineEmitters({
  Activation: (ctx) => {
    const act = ctx.params.act_type as string;
    const opType = ACT[act] ?? ctx.unsupported(`act_type ${act}`);
    ctx.add(opType, [ctx.input(0)], [ctx.output()]);
  },
  relu: unary("Relu"),
  sigmoid: unary("Sigmoid"),
  tanh: unary("Tanh"),
});
