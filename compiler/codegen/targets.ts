/**
 * The C++ and CUDA targets as data: everything that differs between them when a kernel is
 * spelled out (storage types, float16 conversion, math function names, infinity, atomics,
 * barrier, shared memory). The renderer and the templates read these fields; no code path
 * branches on the target's name (tinygrad's cstyle renderer works the same way).
 */
import type { DType } from "../base/dtype.js";
import type { ScalarFn } from "../te/expr.js";
import type { FloatType } from "./ctype.js";

export type Target = "cpp" | "cuda";

/**
 * How a reduction is spread over the target's parallelism. serial: one loop per output (the
 * outputs in parallel when `parallel`); chunked: each output's domain cut into chunks reduced in
 * parallel, merged in order (C++); block: a thread block per output, partials combined by warp
 * shuffles and shared memory (CUDA).
 */
export type ReduceSchedule =
  | { readonly kind: "serial"; readonly parallel: boolean }
  | { readonly kind: "chunked"; readonly chunks: number }
  /** C++: blocks of `columns` adjacent outputs walk a strided reduction together (column sums). */
  | { readonly kind: "columns"; readonly columns: number; readonly parallel: boolean }
  | { readonly kind: "block"; readonly threads: number };

/** A reduction's sizes as the schedule sees them. */
export interface ReduceShape {
  readonly outputs: number;
  readonly extent: number;
  /** The value's main load walks the reduction's innermost axis with unit stride. */
  readonly contiguous: boolean;
  /** Adjacent outputs read adjacent elements (the outputs' innermost axis has unit stride in a load). */
  readonly outputsContiguous?: boolean;
}

/** A contraction's sizes as the GEMM schedule sees them (contraction.ts). */
export interface GemmShape {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** The accumulator's type. */
  readonly acc: FloatType;
  /** Reduced precision allowed: TF32 tensor cores where the target has them. */
  readonly tf32: boolean;
}

/**
 * How a contraction is tiled. cache (C++): tasks of mc×nc outputs in parallel, K in kc blocks,
 * both operands packed into panels of mr rows / nr columns for an mr×nr register-blocked inner
 * kernel. block (CUDA): a thread block per bm×bn tile, K in bk steps through shared memory,
 * tm×tn outputs per thread; with `mma`, warps of warpsM×warpsN compute it with TF32 mma.sync on
 * sm_80+ instead.
 */
export type GemmTiles =
  | { readonly kind: "cache"; readonly mr: number; readonly nr: number; readonly mc: number; readonly nc: number; readonly kc: number; readonly parallel: boolean }
  | {
      readonly kind: "block";
      readonly bm: number;
      readonly bn: number;
      readonly bk: number;
      readonly threads: number;
      readonly tm: number;
      readonly tn: number;
      readonly mma: false | { readonly warpsM: number; readonly warpsN: number };
    };

export interface TargetSpec {
  readonly target: Target;
  /** The templates' file suffix: templates/<family>.<ext>.hbs. */
  readonly ext: "cpp" | "cu";
  /** Element type of an array of each dtype. */
  readonly storage: Readonly<Record<DType, string>>;
  /** Function reading a float16 element as float, and writing a float as float16. */
  readonly halfToFloat: string;
  readonly floatToHalf: string;
  /** Math functions whose names are not libm's (`exp` / `expf`), per float type. */
  readonly mathNames: Readonly<Partial<Record<ScalarFn, Readonly<Record<FloatType, string>>>>>;
  /** float32 spellings under fast math (intrinsics); none on targets without them. */
  readonly fastMathNames: Readonly<Partial<Record<ScalarFn, string>>>;
  readonly isnan: string;
  readonly infinity: Readonly<Record<FloatType, string>>;
  readonly nan: Readonly<Record<FloatType, string>>;
  /** Qualifier of the header's helper functions. */
  readonly helperQualifier: string;
  /** Block barrier and shared-memory declaration prefix (block reductions). */
  readonly barrier: string;
  readonly sharedPrefix: string;
  /**
   * A statement adding `value` (already of the element's compute type) into `array[offset]`
   * atomically; undefined for dtypes this target cannot add atomically (scatter runs serially).
   */
  atomicAdd(dtype: DType, array: string, offset: string, value: string): string | undefined;
  /** Width of the vector loads of purely elementwise kernels (0: none; C++ compilers vectorize loops themselves). */
  readonly vectorBytes: number;
  /** Whether kernels are launched on a grid (and report a launch shape). */
  readonly launches: boolean;
  /** Threads per block of grid-stride kernels. */
  readonly blockThreads: number;
  /** Most blocks of a grid-stride launch (more would only loop). */
  readonly maxBlocks: number;
  /** Fewest loop iterations worth running in parallel (C++: below it the OpenMP fork costs more). */
  readonly parallelMin: number;
  reduceSchedule(r: ReduceShape): ReduceSchedule;
  /** The tiling of a contraction, or undefined where the plain reduction schedule serves it better (small or thin). */
  gemmSchedule(g: GemmShape): GemmTiles | undefined;
}

const pow2AtLeast = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
const roundUp = (n: number, q: number): number => Math.ceil(n / q) * q;

/**
 * CUDA block tiles, largest first, with the warp layout of their TF32 path (warp tiles of
 * whole 16×8 mma shapes). Each thread keeps tm×tn = bm·bn/threads accumulators: 64 floats, or
 * 16 doubles.
 */
const CUDA_TILES: Readonly<Record<FloatType, readonly { bm: number; bn: number; bk: number; threads: number; warpsM: number; warpsN: number }[]>> = {
  // K steps keep each thread's share of a step at 8 elements per operand (bm·bk/threads): the
  // staged values and a gather's index arithmetic then fit beside the accumulators.
  f32: [
    { bm: 128, bn: 128, bk: 16, threads: 256, warpsM: 2, warpsN: 4 },
    { bm: 64, bn: 64, bk: 8, threads: 64, warpsM: 2, warpsN: 1 },
    { bm: 32, bn: 32, bk: 16, threads: 64, warpsM: 2, warpsN: 1 },
  ],
  f64: [
    { bm: 64, bn: 64, bk: 16, threads: 256, warpsM: 0, warpsN: 0 },
    { bm: 32, bn: 32, bk: 16, threads: 64, warpsM: 0, warpsN: 0 },
  ],
};
/** Blocks that fill a large GPU once (an H100 has 132 SMs): the largest tile giving at least this many is taken. */
const CUDA_FILL_BLOCKS = 132;

/** libm names of the math functions (float64 spelling; float32 appends "f"). */
export const LIBM: Readonly<Partial<Record<ScalarFn, string>>> = {
  pow: "pow", fmod: "fmod", exp: "exp", expm1: "expm1", log: "log", log1p: "log1p", log2: "log2", log10: "log10", sqrt: "sqrt",
  cbrt: "cbrt", sin: "sin", cos: "cos", tan: "tan", asin: "asin", acos: "acos", atan: "atan", sinh: "sinh",
  cosh: "cosh", tanh: "tanh", asinh: "asinh", acosh: "acosh", atanh: "atanh", atan2: "atan2", hypot: "hypot",
  erf: "erf", floor: "floor", ceil: "ceil", round: "round", rint: "rint", trunc: "trunc", abs: "fabs",
};

export const CPP: TargetSpec = {
  target: "cpp",
  ext: "cpp",
  storage: {
    float32: "float", float64: "double", float16: "unsigned short", int32: "int", int64: "long long",
    uint8: "unsigned char", int8: "signed char",
  },
  halfToFloat: "kiln_h2f",
  floatToHalf: "kiln_f2h",
  // libm has neither; the C++ module header defines them.
  mathNames: {
    rsqrt: { f32: "kiln_rsqrt", f64: "kiln_rsqrt" },
    erfinv: { f32: "kiln_erfinv", f64: "kiln_erfinv" },
  },
  fastMathNames: {},
  isnan: "std::isnan",
  infinity: { f32: "INFINITY", f64: "(double)INFINITY" },
  nan: { f32: "NAN", f64: "(double)NAN" },
  helperQualifier: "static inline",
  barrier: "",
  sharedPrefix: "",
  atomicAdd(dtype, array, offset, value) {
    // float16 lives in unsigned short bits: an add needs a conversion, which `omp atomic` cannot do.
    if (dtype === "float16") return undefined;
    return `#pragma omp atomic\n${array}[${offset}] += ${value};`;
  },
  vectorBytes: 0,
  launches: false,
  blockThreads: 1,
  maxBlocks: 1,
  parallelMin: 1 << 15,
  reduceSchedule({ outputs, extent, contiguous, outputsContiguous }) {
    const work = outputs * extent;
    // A column reduction: walking each output's strided reduction touches a new cache line per
    // element; blocks of adjacent outputs stepping through the reduction together read lines whole.
    if (!contiguous && outputsContiguous && outputs >= 8 && extent >= 8)
      return { kind: "columns", columns: 64, parallel: work >= CPP.parallelMin && outputs > 64 };
    if (work < CPP.parallelMin) return { kind: "serial", parallel: false };
    // Too few outputs to occupy the cores, and a long reduction: parallelize within it.
    if (outputs < 32 && extent >= CPP.parallelMin) return { kind: "chunked", chunks: 64 };
    return { kind: "serial", parallel: outputs > 1 };
  },
  gemmSchedule({ batch, m, n, k, acc }) {
    // Thin or tiny products gain nothing from packing.
    if (m < 8 || n < 8 || k < 8 || batch * m * n * k < 1 << 14) return undefined;
    // Register blocks for 256-bit vectors (AVX2: 6×16 floats in 12 ymm registers), K blocks of
    // 256, A blocks of 96 rows and B blocks of 256 columns (L2-sized, 2 MB in all per thread).
    const nr = acc === "f32" ? 16 : 8;
    const mr = 6;
    // Equal tiles (128 rows: two of 66, not 96 + 32), whole panels each.
    const even = (size: number, most: number, r: number): number => roundUp(Math.ceil(size / Math.ceil(size / most)), r);
    return {
      kind: "cache",
      mr,
      nr,
      mc: even(m, 96, mr),
      nc: even(n, acc === "f32" ? 256 : 128, nr),
      kc: even(k, 256, 1),
      parallel: batch * m * n * k >= CPP.parallelMin,
    };
  },
};

export const CUDA: TargetSpec = {
  target: "cuda",
  ext: "cu",
  storage: {
    float32: "float", float64: "double", float16: "__half", int32: "int", int64: "long long",
    uint8: "unsigned char", int8: "signed char",
  },
  halfToFloat: "__half2float",
  floatToHalf: "__float2half",
  mathNames: {
    rsqrt: { f32: "rsqrtf", f64: "rsqrt" },
    erfinv: { f32: "erfinvf", f64: "erfinv" },
  },
  fastMathNames: {
    exp: "__expf", log: "__logf", log2: "__log2f", log10: "__log10f", sin: "__sinf", cos: "__cosf", tan: "__tanf",
    pow: "__powf",
  },
  isnan: "isnan",
  infinity: { f32: "__int_as_float(0x7f800000)", f64: "__longlong_as_double(0x7ff0000000000000LL)" },
  nan: { f32: "__int_as_float(0x7fffffff)", f64: "__longlong_as_double(0x7ff8000000000000LL)" },
  helperQualifier: "__device__ __forceinline__",
  barrier: "__syncthreads();",
  sharedPrefix: "__shared__",
  atomicAdd(dtype, array, offset, value) {
    const at = `&${array}[${offset}]`;
    switch (dtype) {
      case "float32":
      case "float64":
      case "int32":
        return `atomicAdd(${at}, ${value});`;
      case "float16":
        return `atomicAdd(${at}, __float2half(${value}));`;
      case "int64":
        // Two's complement: an unsigned add is the signed add.
        return `atomicAdd((unsigned long long*)${at}, (unsigned long long)(${value}));`;
      case "uint8":
      case "int8":
        return `kiln_atomic_add_byte((unsigned char*)${at}, (int)(${value}));`;
    }
  },
  vectorBytes: 16,
  launches: true,
  blockThreads: 256,
  maxBlocks: 4096,
  parallelMin: 1,
  reduceSchedule({ outputs, extent, contiguous }) {
    if (extent <= 32) return { kind: "serial", parallel: true };
    const threads = Math.min(256, pow2AtLeast(extent));
    // A row reduction reads coalesced with a block per row; a column reduction reads coalesced
    // with a thread per column, as long as there are enough columns to fill the GPU.
    if (contiguous || outputs < 8192) return { kind: "block", threads };
    return { kind: "serial", parallel: true };
  },
  gemmSchedule({ batch, m, n, k, acc, tf32 }) {
    // A matrix-vector product is a row reduction: the block reduction reads it coalesced. Thin
    // products (8 rows: a grouped convolution's channels) still beat a block per output.
    if (m < 8 || n < 8 || k < 8) return undefined;
    // Tiles no larger than the product (rounded up to a power of two), then the largest filling the GPU.
    const tiles = CUDA_TILES[acc].filter((x, i, all) => i === all.length - 1 || (x.bm <= pow2AtLeast(m) && x.bn <= pow2AtLeast(n)));
    const blocks = (t: { bm: number; bn: number }): number => batch * Math.ceil(m / t.bm) * Math.ceil(n / t.bn);
    const t = tiles.find((x) => blocks(x) >= CUDA_FILL_BLOCKS) ?? tiles[tiles.length - 1];
    if (Math.ceil(n / t.bn) > 65535 || batch > 65535 || Math.ceil(m / t.bm) > 2 ** 31 - 1) return undefined;
    const per = (t.bm * t.bn) / t.threads;
    const tm = Math.sqrt(per);
    return {
      kind: "block",
      bm: t.bm,
      bn: t.bn,
      bk: t.bk,
      threads: t.threads,
      tm,
      tn: per / tm,
      mma: tf32 && acc === "f32" && t.warpsM > 0 ? { warpsM: t.warpsM, warpsN: t.warpsN } : false,
    };
  },
};

export const TARGETS: Readonly<Record<Target, TargetSpec>> = { cpp: CPP, cuda: CUDA };
