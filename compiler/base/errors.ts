/** Base of every error Kiln raises on purpose, so callers can tell them from bugs. */
export class KilnError extends Error {
  override name = "KilnError";
}

/** An op's own shape rule found two incompatible descriptions of one entry. */
export class ShapeError extends KilnError {
  override name = "ShapeError";
}

/** Raised by inference when a node's shapes or types contradict each other. */
export class InferenceError extends KilnError {
  override name = "InferenceError";
  constructor(
    message: string,
    readonly nodeName: string,
    readonly opName: string,
  ) {
    super(message);
  }
}

/** Bad operator parameter: missing, unparsable, or out of range. */
export class ParamError extends KilnError {
  override name = "ParamError";
}

/** A graph, JSON file or call that cannot be understood. */
export class GraphError extends KilnError {
  override name = "GraphError";
}
