/** The table of ONNX op mappings (default domain), filled by one module per op family. */
import type { MapOutput, NodeCtx } from "../node_ctx.js";

/** Maps one ONNX node to Kiln: one output per ONNX output (undefined for an optional output it does not produce). */
export type Mapper = (n: NodeCtx) => MapOutput[];

const table = new Map<string, Mapper>();

export function defineMappings(m: Record<string, Mapper>): void {
  for (const [op, f] of Object.entries(m)) {
    if (table.has(op)) throw new Error(`ONNX mapping for ${op} defined twice`);
    table.set(op, f);
  }
}

export function findMapping(opType: string): Mapper | undefined {
  return table.get(opType);
}

/** ONNX op types Kiln maps (default domain). */
export function mappedOpTypes(): string[] {
  return [...table.keys()].sort();
}
