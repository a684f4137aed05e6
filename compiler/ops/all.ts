/** Every op row module; importing this registers all operators. */
import * as structure from "./structure.js";
import * as elemwiseBinary from "./elemwise_binary.js";

export const ALL_OP_MODULES = [structure, elemwiseBinary] as const;
