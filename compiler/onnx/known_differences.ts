/**
 * ONNX backend node tests whose ops Kiln maps but whose results differ from ONNX's for a
 * known reason (a semantic difference of MXNet's operators, or a precision limit). The
 * conformance test fails on any failure not listed here, and on an entry that now passes.
 */
export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {};
