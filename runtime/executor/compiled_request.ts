/**
 * From a bind plan (bind_plan.ts) to the compiler's request for one executor variant:
 * "forward" (inference: the forward graph, isTrain=false) or "train" (forward with batch
 * statistics, random masks and aux updates, plus the backward graph when any gradient is
 * requested). Shared by the CompiledExecutor and compileSymbol.
 */
import type { GradReq } from "../../compiler/symbol/binding.js";
import type { Shape } from "../../compiler/base/shape.js";
import type { DType } from "../../compiler/base/dtype.js";
import { CompileRequest } from "../../compiler/passes/pipeline.js";
import { Destination, VariableRole } from "../../compiler/passes/program.js";
import type { UserPass } from "../../compiler/passes/pass_manager.js";
import type { ExecPlan } from "./bind_plan.js";

export type Variant = "forward" | "train";

/** Compilation options an executor or compileSymbol takes. */
export interface CompileOptions {
  /** Fuse kernels (default true); false gives one kernel per computed entry. */
  fuse?: boolean;
  /** Recompute every cheap forward node in backward instead of keeping it (MXNet's mirroring). */
  mirror?: boolean;
  /** In-place reuse in the memory plan (default true). */
  inplace?: boolean;
  /** Passes of this compilation only (registerPass adds passes to all). */
  passes?: readonly UserPass[];
}

export interface VariantInputs {
  plan: ExecPlan;
  gradReqs: readonly GradReq[];
  /** Shapes and dtypes of arguments and aux states (by name) and of the outputs (in order). */
  argShapes: readonly Shape[];
  argTypes: readonly DType[];
  auxShapes: readonly Shape[];
  auxTypes: readonly DType[];
  outShapes: readonly Shape[];
  outTypes: readonly DType[];
}

export function variantRequest(variant: Variant, v: VariantInputs, opts: CompileOptions): CompileRequest {
  const { plan } = v;
  const withGrads = variant === "train" && v.gradReqs.some((r) => r !== "null");
  const graph = withGrads ? plan.graph : plan.forwardGraph;
  const destinations: Destination[] = plan.outputNames.map((_, i) => ({ kind: "output", index: i }));
  if (withGrads) plan.gradEntries.forEach((e, i) => e && destinations.push({ kind: "grad", index: i, accumulate: v.gradReqs[i] === "add" }));
  const variables = new Map<string, VariableRole>();
  const shapes = new Map<string, Shape>();
  const dtypes = new Map<string, DType>();
  plan.argNames.forEach((n, i) => {
    variables.set(n, { kind: "arg", index: i });
    shapes.set(n, v.argShapes[i]);
    dtypes.set(n, v.argTypes[i]);
  });
  plan.auxNames.forEach((n, i) => {
    variables.set(n, { kind: "aux", index: i });
    shapes.set(n, v.auxShapes[i]);
    dtypes.set(n, v.auxTypes[i]);
  });
  plan.headGradNodes.forEach((h, i) => {
    if (!h) return;
    variables.set(h.name, { kind: "head", index: i });
    shapes.set(h.name, v.outShapes[i]);
    dtypes.set(h.name, v.outTypes[i]);
  });
  return {
    label: variant,
    graph,
    forwardNodes: new Set(plan.forwardGraph.nodes),
    isTrain: variant === "train",
    destinations,
    variables,
    shapes,
    dtypes,
    fuse: opts.fuse,
    mirror: opts.mirror,
    inplace: opts.inplace,
    passes: opts.passes,
  };
}
