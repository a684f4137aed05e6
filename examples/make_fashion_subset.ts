/**
 * Writes the small Fashion-MNIST subset that ships in examples/data/fashion-mnist-subset/: the
 * first 100 training images of each class (1,000) and the first 50 test images of each class
 * (500), as gzip'd IDX files named like the full set's with a `subset-` prefix (the repository
 * ignores the full set's file names), so train_fashion_mnist.ts runs where the full dataset is
 * not installed.
 *
 *   node dist/examples/make_fashion_subset.js [source dir] [output dir]
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { fileURLToPath, pathToFileURL } from "node:url";

export const FULL_DATASET_DIR = "/usr/share/datasets/fashion-mnist";
/** File-name prefix of the subset's files. */
export const SUBSET_PREFIX = "subset-";
/**
 * The subset's folder in the source tree: found by walking up from this module (examples/ in
 * the source, dist/examples/ or any other tsc output folder) and then from the working directory.
 */
export function subsetDir(): string {
  const rel = join("examples", "data", "fashion-mnist-subset");
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, rel))) return join(dir, rel);
      if (dirname(dir) === dir) break;
    }
  }
  return join(process.cwd(), rel);
}

function idx(header: number[], body: Uint8Array): Buffer {
  const head = Buffer.alloc(header.length * 4);
  header.forEach((v, i) => head.writeUInt32BE(v, i * 4));
  return Buffer.concat([head, body]);
}

/** The first `perClass` samples of each of the 10 classes, in their original order. */
function pick(images: Buffer, labels: Buffer, perClass: number): { images: Buffer; labels: Buffer } {
  const rows = images.readUInt32BE(8);
  const cols = images.readUInt32BE(12);
  const count = labels.readUInt32BE(4);
  const px = rows * cols;
  const taken = new Array<number>(10).fill(0);
  const keep: number[] = [];
  for (let i = 0; i < count && keep.length < perClass * 10; i++) {
    const y = labels[8 + i];
    if (taken[y] < perClass) {
      taken[y]++;
      keep.push(i);
    }
  }
  const img = new Uint8Array(keep.length * px);
  const lab = new Uint8Array(keep.length);
  keep.forEach((i, k) => {
    img.set(images.subarray(16 + i * px, 16 + (i + 1) * px), k * px);
    lab[k] = labels[8 + i];
  });
  return { images: idx([2051, keep.length, rows, cols], img), labels: idx([2049, keep.length], lab) };
}

export function makeSubset(src = FULL_DATASET_DIR, out = subsetDir(), trainPerClass = 100, testPerClass = 50): void {
  mkdirSync(out, { recursive: true });
  for (const [set, perClass] of [
    ["train", trainPerClass],
    ["t10k", testPerClass],
  ] as const) {
    const images = gunzipSync(readFileSync(join(src, `${set}-images-idx3-ubyte.gz`)));
    const labels = gunzipSync(readFileSync(join(src, `${set}-labels-idx1-ubyte.gz`)));
    const sub = pick(images, labels, perClass);
    writeFileSync(join(out, `${SUBSET_PREFIX}${set}-images-idx3-ubyte.gz`), gzipSync(sub.images, { level: 9 }));
    writeFileSync(join(out, `${SUBSET_PREFIX}${set}-labels-idx1-ubyte.gz`), gzipSync(sub.labels, { level: 9 }));
    console.log(`${set}: ${perClass * 10} images → ${out}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) makeSubset(process.argv[2], process.argv[3]);
