/** Dropout at inference is the identity (unless mode='always', which drops at inference too). */
import { defineEmitters } from "../emitter.js";

defineEmitters({
  Dropout: (ctx) => {
    if (ctx.params.mode === "always" && (ctx.params.p as number) > 0) ctx.unsupported("mode 'always' (drops at inference)");
    ctx.add("Identity", [ctx.input(0)], [ctx.output()]);
  },
});
