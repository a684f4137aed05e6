/**
 * Compiling without binding: the kernels, their sources and the memory plan of a symbol for
 * given input shapes, with no arrays allocated and nothing run. For the CLI and for looking
 * at big graphs (ResNet-50 at batch 32 plans in well under a second).
 */
import type { Symbol } from "../../compiler/symbol/symbol.js";
import type { GradReqSpec } from "../../compiler/symbol/binding.js";
import type { DType } from "../../compiler/base/dtype.js";
import { compileGraph } from "../../compiler/passes/pipeline.js";
import type { Program, MemoryReport } from "../../compiler/passes/program.js";
import { renderModule, RenderedModule } from "../../compiler/codegen/index.js";
import { makePlan, resolveGradReqs } from "./bind_plan.js";
import { CompileOptions, variantRequest } from "./compiled_request.js";

export interface CompileSymbolOptions extends CompileOptions {
  /** Shapes of the inputs; the rest are inferred. */
  shapes: Record<string, readonly number[]>;
  typeDict?: Record<string, DType>;
  /** Compile the training program (forward with batch statistics, and backward when gradients are requested). */
  isTrain?: boolean;
  /** Gradient requests for training (default "write" for every argument). */
  gradReq?: GradReqSpec;
  /** Render the kernels' source for this target ("none": plan only). Default "none". */
  target?: "cpp" | "cuda" | "none";
}

export interface CompiledSymbol {
  readonly program: Program;
  readonly memory: MemoryReport;
  /** One entry per kernel launch, in schedule order. */
  readonly kernels: readonly { name: string; phase: "forward" | "backward"; ops: readonly string[]; nodes: readonly string[]; output: string; launch?: RenderedModule["kernels"][number]["launch"] }[];
  /** The rendered module, when a target was asked for. */
  readonly module?: RenderedModule;
  debugStr(): string;
}

export function compileSymbol(symbol: Symbol, opts: CompileSymbolOptions): CompiledSymbol {
  const isTrain = opts.isTrain ?? false;
  const argNames = symbol.listArguments();
  const gradReqs = isTrain ? resolveGradReqs(argNames, opts.gradReq ?? "write") : argNames.map(() => "null" as const);
  const plan = makePlan(symbol, gradReqs);
  const [argShapes, outShapes, auxShapes] = symbol.inferShape(opts.shapes);
  const [argTypes, outTypes, auxTypes] = symbol.inferTypePartial(opts.typeDict ?? {});
  const f32 = (t: DType | undefined): DType => t ?? "float32";
  const program = compileGraph(
    variantRequest(
      isTrain ? "train" : "forward",
      {
        plan,
        gradReqs,
        argShapes,
        argTypes: argTypes.map(f32),
        auxShapes,
        auxTypes: auxTypes.map(f32),
        outShapes,
        outTypes: outTypes.map(f32),
      },
      opts,
    ),
  );
  const target = opts.target ?? "none";
  const module = target === "none" ? undefined : renderModule(program.kernels, target);
  const launchOf = new Map(module?.kernels.map((k) => [k.name, k.launch]) ?? []);
  return {
    program,
    memory: program.memory,
    kernels: program.steps.map((s) => ({
      name: s.kernel.name,
      phase: s.phase === 0 ? "forward" : "backward",
      ops: s.kernel.ops,
      nodes: s.nodes,
      output: s.outputName,
      launch: launchOf.get(s.kernel.name),
    })),
    module,
    debugStr: () => program.debugStr(),
  };
}
