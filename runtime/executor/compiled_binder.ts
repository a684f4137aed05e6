/**
 * Registers the compiled executor as the binder of cpu() and gpu(): importing this module is
 * what makes `symbol.simpleBind({ ctx: cpu(), … })` compile.
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { BindArgs, Executor, SimpleBindArgs } from "../../compiler/symbol/binding.js";
import { registerBinder } from "../../compiler/symbol/binding.js";
import { allocateForSimpleBind, checkBindArrays } from "./bind_plan.js";
import { CompiledExecutor, executorOptions } from "./compiled.js";
import { KilnError } from "../../compiler/base/errors.js";

const binder = {
  simpleBind(symbol: Symbol, args: SimpleBindArgs): Executor {
    return new CompiledExecutor(symbol, args.ctx, allocateForSimpleBind(symbol, args, args.ctx), executorOptions(args.compile));
  },
  bind(symbol: Symbol, args: BindArgs): Executor {
    for (const a of [...Object.values(args.args), ...Object.values(args.auxStates ?? {})])
      if (a && !a.ctx.equals(args.ctx)) throw new KilnError(`bind: array ${a} is not on ${args.ctx}`);
    return new CompiledExecutor(symbol, args.ctx, checkBindArrays(symbol, args), executorOptions(args.compile));
  },
};

registerBinder("cpu", binder);
registerBinder("gpu", binder);
