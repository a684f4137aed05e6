/** Errors of ONNX export: every node the exporter cannot write, listed in one error. */
import { GraphError } from "../../base/errors.js";

/** One node export cannot write: an op with no emitter, or a feature of a node it does not cover. */
export interface ExportUnsupported {
  op: string;
  nodeName: string;
  reason?: string;
}

/** Every unsupported op and feature of a symbol, listed in one error (with the ops export does write). */
export class OnnxExportUnsupportedError extends GraphError {
  override name = "OnnxExportUnsupportedError";
  constructor(
    readonly items: ExportUnsupported[],
    supported: readonly string[],
  ) {
    super(describe(items, supported));
  }
}

function describe(items: ExportUnsupported[], supported: readonly string[]): string {
  const byOp = new Map<string, ExportUnsupported[]>();
  for (const it of items) byOp.set(it.op, [...(byOp.get(it.op) ?? []), it]);
  const lines = [...byOp].map(([op, list]) => {
    const nodes = list.map((it) => (it.reason ? `${it.nodeName} (${it.reason})` : it.nodeName));
    const shown = nodes.length > 8 ? [...nodes.slice(0, 8), `… ${nodes.length - 8} more`] : nodes;
    return `  ${op}: ${shown.join(", ")}`;
  });
  return (
    `ONNX export: ${items.length} node${items.length === 1 ? "" : "s"} with unsupported op${byOp.size === 1 ? "" : "s"} or features (${[...byOp.keys()].join(", ")}):\n` +
    `${lines.join("\n")}\n  (export writes: ${supported.join(", ")})`
  );
}

/** Thrown by an emitter for a feature of its op it does not write; the exporter collects these. */
export class EmitUnsupported extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A malformed call: missing parameters, shapes that do not match, an opset out of range. */
export class OnnxExportError extends GraphError {
  override name = "OnnxExportError";
}
