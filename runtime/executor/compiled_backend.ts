/**
 * What a compiled executor needs from a backend: turn a Program into something that runs a
 * range of its steps on the executor's arrays. Three backends implement it: "interpret"
 * (te/interpret's evalStage on host memory: no compiler, for fast tests of the pipeline),
 * "cpp" (generated C++ through cpuKernels) and "cuda" (generated CUDA, CUDA-graph replay).
 */
import type { Program, VariableRole, Destination } from "../../compiler/passes/program.js";
import { KilnError } from "../../compiler/base/errors.js";
import type { NDArray } from "../ndarray.js";

export type BackendName = "interpret" | "cpp" | "cuda";

/** The arrays a program's variables and destinations refer to. */
export interface ExecArrays {
  readonly args: readonly NDArray[];
  readonly aux: readonly NDArray[];
  readonly grads: readonly (NDArray | null)[];
  readonly outputs: readonly NDArray[];
  /** Head gradients, one per output (arrays the executor owns; undefined where none is needed). */
  readonly heads: readonly (NDArray | undefined)[];
  readonly seed: NDArray;
}

/** A program made ready to run: compiled, with its arena and argument lists. */
export interface PreparedProgram {
  readonly program: Program;
  /** Runs steps [from, to) (forward: [0, forwardSteps); backward: [forwardSteps, steps.length)). */
  run(from: number, to: number): void;
  /** Module source (empty for the interpreter). */
  readonly source: string;
  /** Launch shape of each step's kernel where the backend has one. */
  launchOf(step: number): { grid: number[]; block: number[]; sharedBytes: number } | undefined;
  dispose(): void;
}

export interface Backend {
  readonly name: BackendName;
  prepare(program: Program, arrays: ExecArrays): PreparedProgram;
}

/** The bound array a variable role or destination names. */
export function arrayOf(arrays: ExecArrays, r: { kind: "var"; role: VariableRole } | { kind: "dest"; dest: Destination }, where: string): NDArray {
  let a: NDArray | null | undefined;
  if (r.kind === "var") {
    const role = r.role;
    a = role.kind === "seed" ? arrays.seed : role.kind === "arg" ? arrays.args[role.index] : role.kind === "aux" ? arrays.aux[role.index] : arrays.heads[role.index];
  } else {
    const d = r.dest;
    a = d.kind === "output" ? arrays.outputs[d.index] : d.kind === "grad" ? arrays.grads[d.index] : arrays.aux[d.index];
  }
  if (!a) throw new KilnError(`${where}: no array bound for ${JSON.stringify(r.kind === "var" ? r.role : r.dest)}`);
  return a;
}
