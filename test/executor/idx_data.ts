/**
 * MNIST-style IDX test sets (gzip) and a classifier's accuracy on one through the compiled
 * executor on cpu(). For the trained shared models (mnist, lenet, fashion-mnist).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { cpu, Symbol, NDArray } from "../../index.js";
import type { Context } from "../../index.js";
import "../../runtime/executor/compiled_binder.js";

export interface IdxSet {
  /** Pixels, row-major, `count` images of rows × cols. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/** Whether `dir` holds `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz`. */
export function hasIdxTestSet(dir: string): boolean {
  return existsSync(join(dir, "t10k-images-idx3-ubyte.gz")) && existsSync(join(dir, "t10k-labels-idx1-ubyte.gz"));
}

/** Reads the t10k images and labels of `dir`, checking the IDX magic numbers and counts. */
export function readIdxTestSet(dir: string): IdxSet {
  const img = gunzipSync(readFileSync(join(dir, "t10k-images-idx3-ubyte.gz")));
  const lab = gunzipSync(readFileSync(join(dir, "t10k-labels-idx1-ubyte.gz")));
  if (img.readUInt32BE(0) !== 2051) throw new Error(`${dir}: images magic ${img.readUInt32BE(0)}, want 2051`);
  if (lab.readUInt32BE(0) !== 2049) throw new Error(`${dir}: labels magic ${lab.readUInt32BE(0)}, want 2049`);
  const count = img.readUInt32BE(4);
  if (lab.readUInt32BE(4) !== count) throw new Error(`${dir}: ${count} images but ${lab.readUInt32BE(4)} labels`);
  return { images: img.subarray(16), labels: lab.subarray(8), count, rows: img.readUInt32BE(8), cols: img.readUInt32BE(12) };
}

/**
 * Test-set accuracy of a 10-class classifier on cpu(): each pixel p goes in as `pre(p)`
 * (e.g. p/255), the prediction is the first index of the largest output.
 */
export function idxAccuracy(net: Symbol, params: { args: Record<string, NDArray>; aux: Record<string, NDArray> }, set: IdxSet, pre: (pixel: number) => number, batch = 500, ctx: Context = cpu()): number {
  const px = set.rows * set.cols;
  const exe = net.simpleBind({ ctx, shapes: { data: [batch, 1, set.rows, set.cols] }, gradReq: "null" });
  exe.copyParamsFrom(params.args, params.aux);
  const table = Float32Array.from({ length: 256 }, (_, p) => pre(p));
  const x = new Float32Array(batch * px);
  let correct = 0;
  let seen = 0;
  for (let start = 0; start + batch <= set.count; start += batch) {
    for (let i = 0; i < x.length; i++) x[i] = table[set.images[start * px + i]];
    exe.argDict.data.set(x);
    const out = exe.forward(false)[0].toFloat64();
    const classes = out.length / batch;
    for (let i = 0; i < batch; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (out[i * classes + c] > out[i * classes + best]) best = c;
      if (best === set.labels[start + i]) correct++;
    }
    seen += batch;
  }
  return correct / seen;
}
