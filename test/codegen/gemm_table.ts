/**
 * GEMM cases of the codegen table: the kernels FullyConnected, dot, batch_dot and Convolution
 * (forward, data and weight gradients; stride, pad, dilation, groups; 1-D to 3-D) lower to,
 * straight from their op rows. Each must take the GEMM schedule on both targets (the tests
 * check the kernel's comment) and, as C++, equal the interpreter. Sizes keep the interpreter's
 * work (B·M·N·K evaluations) near 20k–100k per case.
 */
import type { DType } from "../../compiler/base/dtype.js";
import type { Shape } from "../../compiler/base/shape.js";
import type { Kernel } from "../../compiler/ir/kernel.js";
import { opKernels } from "./op_kernels.js";

export interface GemmCase {
  kernel: Kernel;
  /** Whether this output is a contraction (bias gradients are plain reductions). */
  gemm: boolean;
}

const cases: GemmCase[] = [];

function op(name: string, opName: string, attrs: Record<string, string>, shapes: Shape[], opts: { dtype?: DType; relu?: boolean; accumulate?: boolean; notGemm?: number[] } = {}): void {
  const ks = opKernels(opName, attrs, shapes, { ...opts, name: `gemm_${name}` });
  ks.forEach((kernel, i) => cases.push({ kernel, gemm: !(opts.notGemm ?? []).includes(i) }));
}

// FullyConnected: bias and relu in the epilogue, a flattened 4-D input, flatten=False, odd sizes.
op("fc_bias_relu", "FullyConnected", { num_hidden: "40" }, [[24, 50], [40, 50], [40]], { relu: true });
op("fc_flatten", "FullyConnected", { num_hidden: "33", no_bias: "true" }, [[16, 3, 4, 5], [33, 60]]);
op("fc_noflatten", "FullyConnected", { num_hidden: "24", flatten: "false" }, [[3, 6, 40], [24, 40], [24]]);
op("fc_backward", "_backward_FullyConnected", { num_hidden: "40" }, [[24, 40], [24, 50], [40, 50]], { notGemm: [2] });
// dot in its transposes and N-D; batch_dot.
op("dot", "dot", {}, [[30, 40], [40, 20]]);
op("dot_tt", "dot", { transpose_a: "true", transpose_b: "true" }, [[40, 30], [20, 40]]);
op("dot_nd", "dot", {}, [[2, 15, 40], [40, 4, 5]]);
op("batch_dot", "batch_dot", {}, [[2, 20, 24], [2, 24, 32]]);
op("batch_dot_tb", "batch_dot", { transpose_b: "true" }, [[2, 20, 24], [2, 32, 24]]);
// Convolution: 3x3 pad 1 with a bias; stride 2, pad 2, dilation 2, 2 groups forward and
// backward (data: the transposed window, weight: the window over the batch); 1-D and 3-D.
op("conv", "Convolution", { kernel: "(3,3)", num_filter: "16", pad: "(1,1)" }, [[1, 8, 8, 8], [16, 8, 3, 3], [16]], { relu: true });
const strided = { kernel: "(3,3)", num_filter: "32", stride: "(2,2)", pad: "(2,2)", dilate: "(2,2)", num_group: "2" };
op("conv_sdg", "Convolution", { ...strided, no_bias: "true" }, [[1, 16, 7, 7], [32, 8, 3, 3]]);
op("conv_sdg_backward", "_backward_Convolution", strided, [[1, 32, 4, 4], [1, 16, 7, 7], [32, 8, 3, 3]], { notGemm: [2] });
op("conv1d", "Convolution", { kernel: "(5,)", num_filter: "16", pad: "(2,)" }, [[2, 8, 20], [16, 8, 5], [16]]);
op("conv3d", "Convolution", { kernel: "(3,3,3)", num_filter: "8", no_bias: "true" }, [[1, 4, 5, 5, 5], [8, 4, 3, 3, 3]]);
// Other accumulator and element types, and grad_req "add".
op("fc_f64", "FullyConnected", { num_hidden: "32" }, [[16, 40], [32, 40], [32]], { dtype: "float64" });
op("fc_f16", "FullyConnected", { num_hidden: "32" }, [[16, 40], [32, 40], [32]], { dtype: "float16" });
op("fc_acc", "FullyConnected", { num_hidden: "32" }, [[16, 40], [32, 40], [32]], { accumulate: true });
op("dot_i32", "dot", {}, [[16, 32], [32, 40]], { dtype: "int32" });

export const GEMM_CASES: readonly GemmCase[] = cases.splice(0);

// Network-sized products for the CUDA compile only (the interpreter would take minutes): they
// take the large tiles (128x128 per block, 8x8 per thread) and the TF32 warp layouts.
op("big_fc", "FullyConnected", { num_hidden: "1024" }, [[1024, 512], [1024, 512], [1024]], { relu: true });
op("big_fc_f64", "FullyConnected", { num_hidden: "512" }, [[512, 512], [512, 512], [512]], { dtype: "float64" });
op("big_conv3x3", "_backward_Convolution", { kernel: "(3,3)", num_filter: "128", pad: "(1,1)" }, [[8, 128, 28, 28], [8, 128, 28, 28], [128, 128, 3, 3]], { notGemm: [2] });
op("big_conv3x3_fwd", "Convolution", { kernel: "(3,3)", num_filter: "128", pad: "(1,1)" }, [[32, 128, 28, 28], [128, 128, 3, 3], [128]], { relu: true });
op("big_conv1x1_s2", "Convolution", { kernel: "(1,1)", num_filter: "256", stride: "(2,2)", no_bias: "true" }, [[8, 128, 28, 28], [256, 128, 1, 1]]);
op("big_resnext", "Convolution", { kernel: "(3,3)", num_filter: "256", pad: "(1,1)", num_group: "8", no_bias: "true" }, [[8, 256, 14, 14], [256, 32, 3, 3]]);
op("big_batch_dot", "batch_dot", { transpose_b: "true" }, [[16, 128, 64], [16, 128, 64]]);

/** Compile-only GEMM cases (CUDA). */
export const GEMM_COMPILE_ONLY: readonly GemmCase[] = cases;
