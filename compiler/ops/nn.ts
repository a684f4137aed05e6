/** Neural-network operators (MXNet's src/operator/nn and the loss layers), one file per family. */
export * from "./nn/fully_connected.js";
export * from "./nn/convolution.js";
export * from "./nn/deconvolution.js";
export * from "./nn/pooling.js";
export * from "./nn/activation.js";
export * from "./nn/leaky_relu.js";
export * from "./nn/batch_norm.js";
export * from "./nn/dropout.js";
export * from "./nn/softmax.js";
export * from "./nn/softmax_output.js";
export * from "./nn/regression_output.js";
export * from "./nn/length_mask.js";
