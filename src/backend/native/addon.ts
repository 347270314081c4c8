/**
 * The interface of deepprob's native CPU addon (`native/deepprob_native.c`, built at install into
 * `native/build/deepprob_native.node`; loaded in Node only, by `node_hooks.ts`).
 *
 * Every function works in place on the wasm backend's heap: `heap` is the heap as a
 * `Float32Array` (over its `ArrayBuffer` or `SharedArrayBuffer`), and operands are offsets into it
 * counted in floats. Nothing is copied; the call returns when the result is written.
 */

/** What the addon chose at start-up. */
export interface NativeInfo {
  /** Micro-kernel instruction set chosen from the CPU's flags: `'avx512'`, `'avx2'` or `'sse'`. */
  isa: string;
  /** Threads of its pool (the calling thread included). */
  threads: number;
}

/**
 * The native addon's functions.
 *
 * `gemm` computes, with element strides (a transpose is a swap of the two strides),
 * $$C_{ij} \leftarrow [\text{accumulate}]\,C_{ij} + \sum_{k} A_{ik} B_{kj} + \text{bias}_j,$$
 * followed by the activation `act` (0 linear, 1 relu), where
 * `A_ik = heap[a + i*rsa + k*csa]`, `B_kj = heap[b + k*rsb + j*csb]`, `C_ij = heap[c + i*ldc + j]`.
 *
 * `conv` runs one NHWC convolution kernel on geometry `B, H, W, C, OH, OW, FH, FW, SH, SW, DH, DW,
 * PT, PL, CO` (filters `[FH, FW, C, CO]`):
 * - kind 0, forward: `y[b,i,j,o] = act(bias[o] + sum_{p,q,c} x[b, i*SH + p*DH - PT, j*SW + q*DW - PL, c] w[p,q,c,o])`;
 * - kind 1, gradient of the input: `dx = dL/dx` of that map given `dy` (operands dy, w, dx);
 * - kind 2, gradient of the filter: `dw = dL/dw` given `x` and `dy` (operands x, dy, dw).
 */
export interface NativeAddon {
  init(threads: number, isa: string): NativeInfo;
  info(): NativeInfo;
  gemm(
    heap: Float32Array,
    m: number,
    n: number,
    k: number,
    a: number,
    rsa: number,
    csa: number,
    b: number,
    rsb: number,
    csb: number,
    c: number,
    ldc: number,
    accumulate: number,
    bias: number,
    act: number,
  ): void;
  /**
   * Whether the GEMM micro-kernel reads a row-major left operand in place (1, the default) or
   * packs it first (0); returns the previous setting (for A/B timing and tests).
   */
  setAInPlace(on: 0 | 1): number;
  /** Set the cap on the im2col buffer, in floats (default 2^22); returns the previous cap. */
  setChunkFloats(floats: number): number;
  /**
   * Set the most input channels for which the forward convolution and the filter gradient run as
   * direct convolutions (vectorised over output pixels; `native/conv_direct.h`): `unit` for a
   * horizontal stride and dilation of 1 (default 7), `strided` for the others (default 0);
   * 0 = never (im2col + GEMM). Returns the previous pair.
   */
  setDirectMaxChannels(unit: number, strided: number): [number, number];
  /**
   * Element-wise, threaded: op 0 `out_i = relu(a_i)` (`b` = -1); op 1 the ReLU gradient
   * `out_i = b_i > 0 ? a_i : (b_i is NaN ? b_i : 0)` with `a` = dy, `b` = x. Offsets in floats.
   */
  eltwise(op: 0 | 1, heap: Float32Array, a: number, b: number, out: number, n: number): void;
  /**
   * Element-wise op `op` (`PW` in `pointwise_call.ts`; `native/pointwise.h` lists the formulas)
   * over `n` elements, threaded: operands at float offsets `p0..p6` (-1: unused), scalars
   * `s0..s5`. Returns the sum for the KL op, 0 otherwise.
   */
  pointwise(
    op: number,
    heap: Float32Array,
    n: number,
    p0: number,
    p1: number,
    p2: number,
    p3: number,
    p4: number,
    p5: number,
    p6: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    s4: number,
    s5: number,
  ): number;
  /**
   * Max pooling on NHWC geometry `B, H, W, C, OH, OW, FH, FW, SH, SW, DH, DW, PT, PL`, threaded
   * over images: kind 0 forward (`p0` = x, `p1` = y), kind 1 gradient (`p0` = x, `p1` = dy,
   * `p2` = dx; dy goes to each window's first strict maximum in scan order).
   */
  pool(
    kind: 0 | 1,
    heap: Float32Array,
    p0: number,
    p1: number,
    p2: number,
    ...geometry: number[]
  ): void;
  /** Column sums `out_j = sum_i a[i*cols + j]` of a `rows x cols` matrix, threaded over rows. */
  colsum(heap: Float32Array, a: number, rows: number, cols: number, out: number): void;
  /**
   * `out[o] = x[o - off]` where `o - off` is inside `x`, `value` elsewhere, on 4-D shapes `in`
   * (of x) and `out` (a constant pad: `off` the padding before each axis; a slice: `-begin`);
   * threaded over rows of the last axis.
   */
  copy4(heap: Float32Array, x: number, out: number, ...dimsOffsetsValue: number[]): void;
  /**
   * `out = a (op) b` (op 0 add, 1 subtract, 2 multiply) on the 4-D output `dims` with each
   * operand's element strides `sa`, `sb` (0 on broadcast axes; the last axis 0 or 1), threaded over
   * rows: `binary(op, heap, a, b, out, ...dims, ...sa, ...sb)`.
   */
  binary(
    op: 0 | 1 | 2 | number,
    heap: Float32Array,
    a: number,
    b: number,
    out: number,
    ...dimsAndStrides: number[]
  ): void;
  conv(
    kind: 0 | 1 | 2,
    heap: Float32Array,
    p0: number,
    p1: number,
    p2: number,
    bias: number,
    act: number,
    ...geometry: number[]
  ): void;
}
