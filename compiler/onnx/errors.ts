/** Errors of ONNX import: each names the node (and its op type) it comes from. */
import { GraphError } from "../base/errors.js";

/** One thing import cannot map: an op type, or a feature of a node (an attribute value, a type). */
export interface Unsupported {
  opType: string;
  nodeName: string;
  reason?: string;
}

/** Every unsupported op and feature of a model, listed in one error. */
export class OnnxUnsupportedError extends GraphError {
  override name = "OnnxUnsupportedError";
  constructor(readonly items: Unsupported[]) {
    super(describe(items));
  }
}

function describe(items: Unsupported[]): string {
  const byOp = new Map<string, Unsupported[]>();
  for (const it of items) byOp.set(it.opType, [...(byOp.get(it.opType) ?? []), it]);
  const ops = [...byOp.keys()];
  const lines = [...byOp].map(([op, list]) => {
    const nodes = list.map((it) => (it.reason ? `${it.nodeName} (${it.reason})` : it.nodeName));
    const shown = nodes.length > 8 ? [...nodes.slice(0, 8), `… ${nodes.length - 8} more`] : nodes;
    return `  ${op}: ${shown.join(", ")}`;
  });
  return `ONNX import: ${items.length} node${items.length === 1 ? "" : "s"} with unsupported op${ops.length === 1 ? "" : "s"} or features (${ops.join(", ")}):\n${lines.join("\n")}`;
}

/** A node that is supported in general but malformed or inconsistent in this model. */
export class OnnxImportError extends GraphError {
  override name = "OnnxImportError";
  constructor(
    message: string,
    readonly nodeName: string,
    readonly opType: string,
  ) {
    super(`ONNX node ${nodeName} (${opType}): ${message}`);
  }
}
