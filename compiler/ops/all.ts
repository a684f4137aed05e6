/** Every op row module; importing this registers all operators. */
import * as structure from "./structure.js";
import * as elemwiseBinary from "./elemwise_binary.js";
import * as elemwiseUnary from "./elemwise_unary.js";
import * as scalar from "./scalar.js";
import * as broadcast from "./broadcast.js";
import * as reduce from "./reduce.js";
import * as shapeOps from "./shape_ops.js";
import * as indexing from "./indexing.js";
import * as linalg from "./linalg.js";
import * as nn from "./nn.js";
import * as random from "./random.js";
import * as optimizer from "./optimizer.js";

export const ALL_OP_MODULES = [structure, elemwiseBinary, elemwiseUnary, scalar, broadcast, reduce, shapeOps, indexing, linalg, nn, random, optimizer] as const;
