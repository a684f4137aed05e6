/**
 * The seeded generator behind parameter initialization and data shuffling: xoshiro128**
 * (32-bit state words, so every step is exact in JavaScript numbers), seeded through
 * splitmix32. One shared instance (`globalRandom`) is what `init.seed(n)` reseeds, so a
 * training run is reproducible from one number, as MXNet's `mx.random.seed` makes it.
 */
import { KilnError } from "../../compiler/base/errors.js";

/** The seed the shared generator starts from: runs are reproducible unless reseeded. */
export const DEFAULT_SEED = 0;

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) | 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class RandomGenerator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** The second value of the last Box-Muller pair, handed out by the next normal(). */
  private spare: number | undefined;

  constructor(seed: number = DEFAULT_SEED) {
    this.seed(seed);
  }

  /** Restarts the sequence from an integer seed (any safe integer, negative included). */
  seed(n: number): void {
    if (!Number.isSafeInteger(n)) throw new KilnError(`random seed must be a safe integer, got ${n}`);
    const lo = n >>> 0;
    const hi = Math.floor(n / 4294967296) >>> 0;
    const st = { x: lo ^ Math.imul(hi, 0x27d4eb2f) };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
    this.spare = undefined;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** Normal with the given mean and standard deviation (Box-Muller, both values of each pair used). */
  normal(mean = 0, std = 1): number {
    let z: number;
    if (this.spare !== undefined) {
      z = this.spare;
      this.spare = undefined;
    } else {
      const u1 = 1 - this.random(); // (0, 1]: log never sees 0
      const u2 = this.random();
      const r = Math.sqrt(-2 * Math.log(u1));
      z = r * Math.cos(2 * Math.PI * u2);
      this.spare = r * Math.sin(2 * Math.PI * u2);
    }
    return mean + std * z;
  }

  /** A uniform integer in [0, n), without modulo bias. */
  randint(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new KilnError(`randint: bound must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.randint(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0 … n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** `n` uniform values in [low, high). */
  uniformArray(n: number, low = 0, high = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /** `n` normal values. */
  normalArray(n: number, mean = 0, std = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The generator initializers and shuffling iterators use unless given their own. */
export const globalRandom = new RandomGenerator(DEFAULT_SEED);

/** Reseeds the shared generator (MXNet's `mx.random.seed`). */
export function seed(n: number): void {
  globalRandom.seed(n);
}
