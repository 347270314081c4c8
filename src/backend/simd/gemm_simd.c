/* ---- GEMM: packed, register-blocked, with a fused bias + activation epilogue --------------
 *
 *   C[b] = act(op(A)[b] op(B)[b] + bias),   op(A) M x K, op(B) K x N, C row-major M x N,
 *
 * where A[b](i, k) = A[b*sA + i*rsA + k*csA] and B[b](k, n) = B[b*sB + k*rsB + n*csB] (so one
 * routine covers both transposes and broadcast batches, sA = 0 or sB = 0).
 *
 * Goto-style blocking: K is cut into blocks of GEMM_KC; for each block the columns of B the caller
 * owns (panels p0..p1 of GEMM_NR columns) are packed panel by panel (kc x 8, zero-padded past N),
 * then rows m0..m1 in blocks of GEMM_MC are packed into micro-panels of GEMM_MR rows (kc x 4,
 * zero-padded), and the 4 x 8 micro-kernel keeps its tile of C in 8 f32x4 accumulators over the
 * whole block: per k, two loads of B, four broadcast loads of A and eight multiply-adds. A B
 * micro-panel (16 KiB) stays in L1, the packed A block (240 KiB) in L2. Blocks after the first
 * add to C; the bias and the activation are applied with the last. (Measured in V8: 4 x 8 runs
 * ~1.4x faster than 6 x 8 or 5 x 8, whose 12-15 live vectors exceed the 15 SIMD registers V8
 * allocates on x64 and spill.)
 *
 * Built twice: with -mrelaxed-simd the multiply-add is f32x4.relaxed_madd (one fused FMA where the
 * engine has it: the result may differ from a*b + c in the last bit), otherwise f32x4.mul then
 * f32x4.add. The caller chooses (m0, m1, p0, p1) so that threads share one call's work without
 * writing the same element; `scratch` is the caller's: gemm_scratch_floats(p1 - p0) floats.
 *
 * act: 0 linear, 1 relu (NaN kept), 2 relu6, 3 leaky relu with slope alpha. Included by
 * deepprob_simd.c. */

#ifdef __wasm_relaxed_simd__
#define MADD(a, b, c) wasm_f32x4_relaxed_madd((a), (b), (c))
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

#ifndef GEMM_MR
#define GEMM_MR 4 /* 5 and 6 are also written out below */
#endif
#define GEMM_NR 8
#define GEMM_KC 512
#define GEMM_MC 120

/* floats of scratch a share of `panels` column panels needs (packed B panels, one A block) */
EXPORT(gemm_scratch_floats)
int gemm_scratch_floats(int panels) { return GEMM_KC * (GEMM_NR * panels + GEMM_MC); }

/* rows of the micro-tile (the unit of a thread's share of rows) */
EXPORT(gemm_mr)
int gemm_mr(void) { return GEMM_MR; }

/* whether this build fuses the multiply-add (1: relaxed SIMD) */
EXPORT(gemm_fused_madd)
int gemm_fused_madd(void) {
#ifdef __wasm_relaxed_simd__
  return 1;
#else
  return 0;
#endif
}

/* B's rows k0..k0+kc of panels p0..p1 into pb, panel after panel, each kc rows of 8 floats */
static void pack_b(const float *B, int rsB, int csB, int N, int k0, int kc, int p0, int p1,
                   float *pb) {
  for (int p = p0; p < p1; p++) {
    int n0 = p * GEMM_NR;
    int nr = N - n0 < GEMM_NR ? N - n0 : GEMM_NR;
    float *dst = pb + (long)(p - p0) * kc * GEMM_NR;
    if (csB == 1 && nr == GEMM_NR) {
      const float *src = B + (long)k0 * rsB + n0;
      for (int k = 0; k < kc; k++, src += rsB, dst += GEMM_NR) {
        wasm_v128_store(dst, wasm_v128_load(src));
        wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
      }
    } else if (rsB == 1) {
      /* B transposed: each column of the panel is contiguous in k */
      for (int j = 0; j < GEMM_NR; j++) {
        const float *src = B + (long)(n0 + j) * csB + k0;
        if (j < nr)
          for (int k = 0; k < kc; k++) dst[k * GEMM_NR + j] = src[k];
        else
          for (int k = 0; k < kc; k++) dst[k * GEMM_NR + j] = 0.0f;
      }
    } else {
      for (int k = 0; k < kc; k++, dst += GEMM_NR) {
        const float *src = B + (long)(k0 + k) * rsB + (long)n0 * csB;
        int j = 0;
        for (; j < nr; j++) dst[j] = src[(long)j * csB];
        for (; j < GEMM_NR; j++) dst[j] = 0.0f;
      }
    }
  }
}

/* rows m0..m0+mc, columns k0..k0+kc of A into micro-panels of GEMM_MR rows:
 * pa[t*kc + k*GEMM_MR + r]; full panels of 4 rows move as 4 x 4 blocks (a transpose in registers
 * when A's rows are contiguous in k, plain vector copies when A is stored transposed) */
static void pack_a(const float *A, int rsA, int csA, int m0, int mc, int k0, int kc, float *pa) {
  for (int i0 = 0; i0 < mc; i0 += GEMM_MR) {
    float *dst = pa + (long)i0 * kc;
    int mr = mc - i0 < GEMM_MR ? mc - i0 : GEMM_MR;
    int k = 0;
    if (GEMM_MR == 4 && mr == 4 && csA == 1) {
      const float *r0 = A + (long)(m0 + i0) * rsA + k0;
      const float *r1 = r0 + rsA, *r2 = r1 + rsA, *r3 = r2 + rsA;
      for (; k + 4 <= kc; k += 4) {
        f4 x0 = wasm_v128_load(r0 + k), x1 = wasm_v128_load(r1 + k);
        f4 x2 = wasm_v128_load(r2 + k), x3 = wasm_v128_load(r3 + k);
        f4 t0 = wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7);
        f4 t2 = wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7);
        wasm_v128_store(dst + k * 4, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
        wasm_v128_store(dst + k * 4 + 4, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
        wasm_v128_store(dst + k * 4 + 8, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
        wasm_v128_store(dst + k * 4 + 12, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
      }
    } else if (GEMM_MR == 4 && mr == 4 && rsA == 1) {
      const float *src = A + (long)k0 * csA + (m0 + i0);
      for (; k < kc; k++, src += csA) wasm_v128_store(dst + k * 4, wasm_v128_load(src));
    }
    if (csA == 1) {
      for (int r = 0; r < mr; r++) {
        const float *src = A + (long)(m0 + i0 + r) * rsA + k0;
        for (int j = k; j < kc; j++) dst[j * GEMM_MR + r] = src[j];
      }
    } else {
      for (int j = k; j < kc; j++) {
        const float *src = A + (long)(k0 + j) * csA + (long)(m0 + i0) * rsA;
        for (int r = 0; r < mr; r++) dst[j * GEMM_MR + r] = src[(long)r * rsA];
      }
    }
    for (int r = mr; r < GEMM_MR; r++)
      for (int j = 0; j < kc; j++) dst[j * GEMM_MR + r] = 0.0f;
  }
}

/* the first n (1..3) lanes of v to p, or from p (others 0) */
static inline void store_part(float *p, int n, f4 v) {
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (n > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (n > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

/* 8 (or nr < 8) floats of a row of C */
static inline void load_row(const float *c, int nr, f4 *lo, f4 *hi) {
  if (nr == GEMM_NR) {
    *lo = wasm_v128_load(c);
    *hi = wasm_v128_load(c + 4);
  } else if (nr >= 4) {
    *lo = wasm_v128_load(c);
    *hi = nr > 4 ? tail_load(c + 4, nr - 4) : wasm_f32x4_splat(0.0f);
  } else {
    *lo = tail_load(c, nr);
    *hi = wasm_f32x4_splat(0.0f);
  }
}

static inline void store_row(float *c, int nr, f4 lo, f4 hi) {
  if (nr == GEMM_NR) {
    wasm_v128_store(c, lo);
    wasm_v128_store(c + 4, hi);
  } else if (nr >= 4) {
    wasm_v128_store(c, lo);
    if (nr > 4) store_part(c + 4, nr - 4, hi);
  } else {
    store_part(c, nr, lo);
  }
}

static inline f4 activate(f4 v, int act, f4 alpha) {
  f4 zero = wasm_f32x4_splat(0.0f);
  if (act == 1) return wasm_f32x4_pmax(v, zero); /* v < 0 ? 0 : v (NaN stays NaN) */
  if (act == 2) return wasm_f32x4_pmin(wasm_f32x4_pmax(v, zero), wasm_f32x4_splat(6.0f));
  if (act == 3) return wasm_v128_bitselect(wasm_f32x4_mul(v, alpha), v, wasm_f32x4_lt(v, zero));
  return v;
}

/* one row of the tile out: add the previous blocks' sum, then (last block) bias and activation */
#define GEMM_ROW(r, lo, hi)                                                                    \
  if (r < mr) {                                                                                \
    float *cr = c + (long)(r) * ldc;                                                           \
    if (accumulate) {                                                                          \
      f4 ol, oh;                                                                               \
      load_row(cr, nr, &ol, &oh);                                                              \
      lo = wasm_f32x4_add(lo, ol);                                                             \
      hi = wasm_f32x4_add(hi, oh);                                                             \
    }                                                                                          \
    if (last) {                                                                                \
      lo = activate(wasm_f32x4_add(lo, blo), act, va);                                         \
      hi = activate(wasm_f32x4_add(hi, bhi), act, va);                                         \
    }                                                                                          \
    store_row(cr, nr, lo, hi);                                                                 \
  }

/* the GEMM_MR x 8 tile at c (mr x nr of it stored) from packed micro-panels pa (kc x GEMM_MR),
 * pb (kc x 8) */
static void micro_kernel(const float *pa, const float *pb, int kc, float *c, int ldc, int mr, int nr,
                      int accumulate, int last, f4 blo, f4 bhi, int act, float alpha) {
  f4 z = wasm_f32x4_splat(0.0f);
  f4 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
  f4 c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  for (int k = 0; k < kc; k++, pa += GEMM_MR, pb += GEMM_NR) {
    f4 b0 = wasm_v128_load(pb);
    f4 b1 = wasm_v128_load(pb + 4);
    f4 a = wasm_v128_load32_splat(pa);
    c00 = MADD(a, b0, c00);
    c01 = MADD(a, b1, c01);
    a = wasm_v128_load32_splat(pa + 1);
    c10 = MADD(a, b0, c10);
    c11 = MADD(a, b1, c11);
    a = wasm_v128_load32_splat(pa + 2);
    c20 = MADD(a, b0, c20);
    c21 = MADD(a, b1, c21);
    a = wasm_v128_load32_splat(pa + 3);
    c30 = MADD(a, b0, c30);
    c31 = MADD(a, b1, c31);
#if GEMM_MR > 4
    a = wasm_v128_load32_splat(pa + 4);
    c40 = MADD(a, b0, c40);
    c41 = MADD(a, b1, c41);
#endif
#if GEMM_MR > 5
    a = wasm_v128_load32_splat(pa + 5);
    c50 = MADD(a, b0, c50);
    c51 = MADD(a, b1, c51);
#endif
  }
  f4 va = wasm_f32x4_splat(alpha);
  GEMM_ROW(0, c00, c01)
  GEMM_ROW(1, c10, c11)
  GEMM_ROW(2, c20, c21)
  GEMM_ROW(3, c30, c31)
#if GEMM_MR > 4
  GEMM_ROW(4, c40, c41)
#endif
#if GEMM_MR > 5
  GEMM_ROW(5, c50, c51)
#endif
}

/* one batch item: rows m0..m1 of C, column panels p0..p1 */
static void gemm_one(const float *A, const float *B, float *C, const float *bias, float *scratch,
                     int M, int N, int K, int rsA, int csA, int rsB, int csB, int m0, int m1, int p0,
                     int p1, int act, float alpha) {
  float *pb = scratch;
  float *pa = scratch + (long)GEMM_KC * GEMM_NR * (p1 - p0);
  f4 z = wasm_f32x4_splat(0.0f);
  (void)M;
  for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
    int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
    int accumulate = k0 > 0;
    int last = k0 + kc >= K;
    pack_b(B, rsB, csB, N, k0, kc, p0, p1, pb);
    for (int i = m0; i < m1; i += GEMM_MC) {
      int mc = m1 - i < GEMM_MC ? m1 - i : GEMM_MC;
      pack_a(A, rsA, csA, i, mc, k0, kc, pa);
      for (int p = p0; p < p1; p++) {
        int n0 = p * GEMM_NR;
        int nr = N - n0 < GEMM_NR ? N - n0 : GEMM_NR;
        f4 blo = z, bhi = z;
        if (last && bias != 0) load_row(bias + n0, nr, &blo, &bhi);
        const float *bp = pb + (long)(p - p0) * kc * GEMM_NR;
        for (int t = 0; t < mc; t += GEMM_MR) {
          int mr = mc - t < GEMM_MR ? mc - t : GEMM_MR;
          micro_kernel(pa + (long)t * kc, bp, kc, C + (long)(i + t) * N + n0, N, mr, nr, accumulate,
                    last, blo, bhi, act, alpha);
        }
      }
    }
  }
}

/* C for batch items 0..batch-1 (item b at A + b*sA, B + b*sB, C + b*M*N), rows m0..m1 and column
 * panels p0..p1 of each; K >= 1. */
EXPORT(gemm)
void gemm(const float *A, const float *B, float *C, const float *bias, float *scratch, int batch,
          int sA, int sB, int M, int N, int K, int rsA, int csA, int rsB, int csB, int m0, int m1,
          int p0, int p1, int act, float alpha) {
  for (int b = 0; b < batch; b++)
    gemm_one(A + (long)b * sA, B + (long)b * sB, C + (long)b * M * N, bias, scratch, M, N, K, rsA,
             csA, rsB, csB, m0, m1, p0, p1, act, alpha);
}
