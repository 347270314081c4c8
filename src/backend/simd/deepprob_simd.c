/*
 * deepprob's SIMD kernels (WebAssembly SIMD128), working in place on the tfjs wasm backend's heap.
 *
 * Built by scripts/build-simd.mjs (clang 19, wasm32, -msimd128, and again with -mrelaxed-simd)
 * into a module that imports the backend's memory ("env"."memory") and has no data segment and no
 * shadow stack: it never writes outside the buffers it is given. All pointers are byte offsets
 * into that memory.
 *
 * Contents:
 * - normal_fill: the seeded ziggurat of random_normal.ts, bit for bit (four xoshiro128** streams
 *   stepped in SIMD, vectorised fast path, float64 exp/log of our own in the rare slow path).
 * - the fused element-wise kernels of kernels/variational.ts in float32 SIMD with vector exp/log
 *   (max relative error ~2e-7): softplus reparameterization, analytic Normal KL (float64 sum),
 *   local reparameterization, and their gradients.
 * - max_pool_grad_2x2: the gradient of 2x2/stride-2 max pooling (NHWC), first strict maximum in
 *   scan order, as the cpu backend.
 * - gemm (gemm_simd.c): the packed, register-blocked GEMM with fused bias + activation; im2col /
 *   im2col_t / col2im_add (col2im_simd.c) for the convolutions.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* ---- float64 exp and log for the ziggurat's slow path ------------------------------------
 * Same operation sequence as zigExp / zigLog in random_normal.ts, so both give the same bits.
 * exp: x = k ln2 + r, |r| <= ln2 / 2, Taylor series to r^13 (error < 2e-16, Estrin's scheme),
 * times 2^k.
 * log (x > 0 normal): x = m 2^e, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh((m - 1) / (m + 1))
 * by its odd series to s^21 (error < 1e-17), plus e ln2. */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10

static inline double pow2i(int k) {
  union {
    double d;
    uint64_t u;
  } v;
  v.u = (uint64_t)(k + 1023) << 52;
  return v.d;
}

static inline double zig_exp(double x) {
  double k = __builtin_floor(x * 1.44269504088896338700e+00 + 0.5);
  double r = (x - k * LN2_HI) - k * LN2_LO;
  /* Estrin's scheme (short dependency chains) for sum_{i<=13} r^i / i! */
  double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  double q0 = 1.0 + r, q1 = 0.5 + r * (1.0 / 6.0);
  double q2 = 1.0 / 24.0 + r * (1.0 / 120.0), q3 = 1.0 / 720.0 + r * (1.0 / 5040.0);
  double q4 = 1.0 / 40320.0 + r * (1.0 / 362880.0), q5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
  double q6 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
  double t0 = q0 + q1 * r2, t1 = q2 + q3 * r2, t2 = q4 + q5 * r2;
  double u0 = t0 + t1 * r4, u1 = t2 + q6 * r4;
  double p = u0 + u1 * r8;
  return p * pow2i((int)k);
}

static inline double zig_log(double x) {
  union {
    double d;
    uint64_t u;
  } v;
  v.d = x;
  int e = (int)((v.u >> 52) & 0x7ff) - 1023;
  v.u = (v.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
  double m = v.d;
  if (m > 1.41421356237309504880) {
    m = m * 0.5;
    e = e + 1;
  }
  double s = (m - 1.0) / (m + 1.0);
  double s2 = s * s;
  double p = 1.0 / 21.0;
  p = p * s2 + 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  return (double)e * LN2_HI + ((2.0 * s) * p + (double)e * LN2_LO);
}

/* ---- float32 vector math ------------------------------------------------------------------ */

typedef v128_t f4;
#define SPLAT(x) wasm_f32x4_splat((float)(x))

/* e^x, Cephes-style range reduction and degree-5 polynomial; x clamped to [-87.3, 88.3] */
static inline f4 vexp(f4 x) {
  x = wasm_f32x4_min(wasm_f32x4_max(x, SPLAT(-87.3)), SPLAT(88.3));
  f4 fx = wasm_f32x4_floor(wasm_f32x4_add(wasm_f32x4_mul(x, SPLAT(1.44269504088896341)), SPLAT(0.5)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, SPLAT(0.693359375)));
  x = wasm_f32x4_sub(x, wasm_f32x4_mul(fx, SPLAT(-2.12194440e-4)));
  f4 z = wasm_f32x4_mul(x, x);
  f4 y = SPLAT(1.9875691500e-4);
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), SPLAT(1.3981999507e-3));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), SPLAT(8.3334519073e-3));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), SPLAT(4.1665795894e-2));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), SPLAT(1.6666665459e-1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, x), SPLAT(5.0000001201e-1));
  y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(y, z), x), SPLAT(1.0));
  v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(fx), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(y, e);
}

/* log(x) for positive normal x: x = m 2^e, m in [sqrt(1/2), sqrt(2)), Cephes polynomial */
static inline f4 vlog(f4 x) {
  v128_t bits = x;
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(bits, 23), wasm_i32x4_splat(126));
  f4 m = wasm_v128_or(wasm_v128_and(bits, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f000000));
  /* m in [0.5, 1): if m < sqrt(1/2) use 2m - 1 and e - 1, else m - 1 */
  v128_t small = wasm_f32x4_lt(m, SPLAT(0.707106781186547524));
  f4 ef = wasm_f32x4_convert_i32x4(wasm_i32x4_add(e, small)); /* small is -1 where true */
  f4 f = wasm_f32x4_sub(wasm_f32x4_add(m, wasm_v128_and(small, m)), SPLAT(1.0));
  f4 z = wasm_f32x4_mul(f, f);
  f4 y = SPLAT(7.0376836292e-2);
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), SPLAT(-1.1514610310e-1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), SPLAT(1.1676998740e-1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), SPLAT(-1.2420140846e-1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), SPLAT(1.4249322787e-1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), SPLAT(-1.6668057665e-1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), SPLAT(2.0000714765e-1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), SPLAT(-2.4999993993e-1));
  y = wasm_f32x4_add(wasm_f32x4_mul(y, f), SPLAT(3.3333331174e-1));
  y = wasm_f32x4_mul(wasm_f32x4_mul(y, f), z);
  y = wasm_f32x4_add(y, wasm_f32x4_mul(ef, SPLAT(-2.12194440e-4)));
  y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, SPLAT(0.5)));
  return wasm_f32x4_add(wasm_f32x4_add(f, y), wasm_f32x4_mul(ef, SPLAT(0.693359375)));
}

/* log1p(t) for t in [0, 1]: 2 atanh(s), s = t / (2 + t) in [0, 1/3], by its odd series to s^13
 * (relative error < 1e-8): one division and seven multiply-adds */
static inline f4 vlog1p01(f4 t) {
  f4 s = wasm_f32x4_div(t, wasm_f32x4_add(t, SPLAT(2.0)));
  f4 z = wasm_f32x4_mul(s, s);
  f4 p = SPLAT(1.0 / 13.0);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), SPLAT(1.0 / 11.0));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), SPLAT(1.0 / 9.0));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), SPLAT(1.0 / 7.0));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), SPLAT(1.0 / 5.0));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), SPLAT(1.0 / 3.0));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), SPLAT(1.0));
  return wasm_f32x4_mul(wasm_f32x4_add(s, s), p);
}

/* softplus(r) = max(r, 0) + log1p(e^-|r|) */
static inline f4 vsoftplus(f4 r) {
  return wasm_f32x4_add(wasm_f32x4_max(r, SPLAT(0.0)), vlog1p01(vexp(wasm_f32x4_neg(wasm_f32x4_abs(r)))));
}

/* sigmoid(r) = 1 / (1 + e^-r), via e = e^-|r| for both signs */
static inline f4 vsigmoid(f4 r) {
  f4 e = vexp(wasm_f32x4_neg(wasm_f32x4_abs(r)));
  f4 inv = wasm_f32x4_div(SPLAT(1.0), wasm_f32x4_add(e, SPLAT(1.0)));
  return wasm_v128_bitselect(inv, wasm_f32x4_mul(e, inv), wasm_f32x4_ge(r, SPLAT(0.0)));
}

/* the scalar tail of a loop runs through the same vector code on a zero-padded lane group */
#define TAIL_LOAD(p, i, n) tail_load((p) + (i), (n) - (i))
/* (lane by lane: no arrays, so that nothing lives on a shadow stack) */
static inline f4 tail_load(const float *p, int k) {
  f4 v = wasm_f32x4_replace_lane(wasm_f32x4_splat(0.0f), 0, p[0]);
  if (k > 1) v = wasm_f32x4_replace_lane(v, 1, p[1]);
  if (k > 2) v = wasm_f32x4_replace_lane(v, 2, p[2]);
  return v;
}
static inline void tail_store(float *p, int k, f4 v) {
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (k > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (k > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}
/* sum of the first k lanes */
static inline double tail_sum(f4 v, int k) {
  double s = wasm_f32x4_extract_lane(v, 0);
  if (k > 1) s += wasm_f32x4_extract_lane(v, 1);
  if (k > 2) s += wasm_f32x4_extract_lane(v, 2);
  return s;
}

/* ---- ziggurat normal generator (Marsaglia & Tsang 2000, 128 layers) ----------------------
 * Four interleaved xoshiro128** streams (lane L draws for outputs L, L + 4, ...), stepped together
 * in SIMD, one draw per output; the fast path (~97% of draws) is vectorised, and a rejected draw
 * finishes on a fifth, scalar stream used only by the slow path (in output order). Fast-path values are float32 (j * wn[iz] rounded once); the slow path is
 * float64 rounded to float32. random_normal.ts implements the same streams in JavaScript, bit for
 * bit. Tables at `tables`: kn, wn, fn (float64[128] each), then kn as int32[128] and wn as
 * float32[128], then 4 words of scratch for the slow path's stream state. */

typedef struct {
  uint32_t s0, s1, s2, s3;
} rng_t;

static inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static inline uint32_t next_u32(rng_t *r) {
  uint32_t out = rotl(r->s1 * 5u, 7) * 9u;
  uint32_t t = r->s1 << 9;
  r->s2 ^= r->s0;
  r->s3 ^= r->s1;
  r->s1 ^= r->s2;
  r->s0 ^= r->s3;
  r->s2 ^= t;
  r->s3 = rotl(r->s3, 11);
  return out;
}

/* SplitMix32 output k of `seed` */
static inline uint32_t splitmix(uint32_t seed, uint32_t k) {
  uint32_t z = seed + k * 0x9e3779b9u;
  z = (z ^ (z >> 16)) * 0x85ebca6bu;
  z = (z ^ (z >> 13)) * 0xc2b2ae35u;
  return z ^ (z >> 16);
}

#define ZIG_R 3.442619855899

/* uniform on (0, 1) from the top 24 bits */
static inline double uniform(rng_t *r) { return ((double)(next_u32(r) >> 8) + 0.5) / 16777216.0; }

/* the rejection step of a draw (j, iz) that missed the fast path, on its lane's stream */
static inline __attribute__((always_inline)) double slow_path(rng_t *r, int32_t j, int iz,
                                                              const double *kn, const double *wn,
                                                              const double *fn) {
  for (;;) {
    double x = (double)j * wn[iz];
    if (iz == 0) {
      double xt, yt;
      do {
        xt = -zig_log(uniform(r)) / ZIG_R;
        yt = -zig_log(uniform(r));
      } while (yt + yt < xt * xt);
      return j > 0 ? ZIG_R + xt : -ZIG_R - xt;
    }
    if (fn[iz] + uniform(r) * (fn[iz - 1] - fn[iz]) < zig_exp(-0.5 * x * x)) return x;
    int32_t u = (int32_t)next_u32(r);
    iz = u & 127;
    j = u >> 7;
    if ((double)(j < 0 ? -j : j) < kn[iz]) return (double)j * wn[iz];
  }
}

static inline v128_t rotl4(v128_t x, int k) {
  return wasm_v128_or(wasm_i32x4_shl(x, k), wasm_u32x4_shr(x, 32 - k));
}

/* The slow path of a rejected draw u, on the fifth (slow-path) stream whose state is kept in
 * `st` (4 words of scratch after the tables); out of line so that the vector loop stays small. */
__attribute__((noinline)) static float slow_lane(uint32_t *st, int32_t u, const double *tables) {
  rng_t r = {st[0], st[1], st[2], st[3]};
  float z = (float)slow_path(&r, u >> 7, u & 127, tables, tables + 128, tables + 256);
  st[0] = r.s0;
  st[1] = r.s1;
  st[2] = r.s2;
  st[3] = r.s3;
  return z;
}

#define SLOW_LANE(L)                                                                          \
  if (!wasm_i32x4_extract_lane(ok, L) && i + L < n)                                           \
    out[i + L] = mean + sd * slow_lane(st, wasm_i32x4_extract_lane(uv, L), tables);

/* out[i] = mean + sd * z_i (float32) */
EXPORT(normal_fill)
void normal_fill(float *out, int n, uint32_t seed, float mean, float sd, const double *tables) {
  const int32_t *kni = (const int32_t *)(tables + 384);
  const float *wnf = (const float *)(kni + 128);
  uint32_t *st = (uint32_t *)(wnf + 128);
  /* stream L: words splitmix(seed, 4L + 1 .. 4L + 4); an all-zero state becomes s0 = 1 */
#define W(L, k) splitmix(seed, 4 * (L) + (k))
  v128_t s0 = wasm_i32x4_make(W(0, 1), W(1, 1), W(2, 1), W(3, 1));
  v128_t s1 = wasm_i32x4_make(W(0, 2), W(1, 2), W(2, 2), W(3, 2));
  v128_t s2 = wasm_i32x4_make(W(0, 3), W(1, 3), W(2, 3), W(3, 3));
  v128_t s3 = wasm_i32x4_make(W(0, 4), W(1, 4), W(2, 4), W(3, 4));
#undef W
  v128_t zero = wasm_v128_or(wasm_v128_or(s0, s1), wasm_v128_or(s2, s3));
  s0 = wasm_v128_bitselect(wasm_i32x4_splat(1), s0, wasm_i32x4_eq(zero, wasm_i32x4_splat(0)));
  /* the slow-path stream: words splitmix(seed, 17 .. 20) */
  st[0] = splitmix(seed, 17);
  st[1] = splitmix(seed, 18);
  st[2] = splitmix(seed, 19);
  st[3] = splitmix(seed, 20);
  if ((st[0] | st[1] | st[2] | st[3]) == 0) st[0] = 1;
  f4 mv = wasm_f32x4_splat(mean), sv = wasm_f32x4_splat(sd);
  for (int i = 0; i < n; i += 4) {
    v128_t uv = wasm_i32x4_mul(rotl4(wasm_i32x4_mul(s1, wasm_i32x4_splat(5)), 7), wasm_i32x4_splat(9));
    v128_t t = wasm_i32x4_shl(s1, 9);
    s2 = wasm_v128_xor(s2, s0);
    s3 = wasm_v128_xor(s3, s1);
    s1 = wasm_v128_xor(s1, s2);
    s0 = wasm_v128_xor(s0, s3);
    s2 = wasm_v128_xor(s2, t);
    s3 = rotl4(s3, 11);
    v128_t iz = wasm_v128_and(uv, wasm_i32x4_splat(127));
    v128_t j = wasm_i32x4_shr(uv, 7);
    int i0 = wasm_i32x4_extract_lane(iz, 0), i1 = wasm_i32x4_extract_lane(iz, 1);
    int i2 = wasm_i32x4_extract_lane(iz, 2), i3 = wasm_i32x4_extract_lane(iz, 3);
    v128_t knv = wasm_i32x4_make(kni[i0], kni[i1], kni[i2], kni[i3]);
    f4 wnv = wasm_f32x4_make(wnf[i0], wnf[i1], wnf[i2], wnf[i3]);
    v128_t ok = wasm_i32x4_lt(wasm_i32x4_abs(j), knv);
    f4 z = wasm_f32x4_add(mv, wasm_f32x4_mul(sv, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(j), wnv)));
    if (i + 4 <= n) {
      wasm_v128_store(out + i, z);
    } else {
      tail_store(out + i, n - i, z);
    }
    if (!wasm_i32x4_all_true(ok)) {
      SLOW_LANE(0)
      SLOW_LANE(1)
      SLOW_LANE(2)
      SLOW_LANE(3)
    }
  }
}

/* ---- fused variational kernels ------------------------------------------------------------ */

EXPORT(softplus_reparam)
void softplus_reparam(const float *mu, const float *rho, const float *eps, float *w, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 s = vsoftplus(wasm_v128_load(rho + i));
    wasm_v128_store(w + i, wasm_f32x4_add(wasm_v128_load(mu + i), wasm_f32x4_mul(s, wasm_v128_load(eps + i))));
  }
  if (i < n) {
    f4 s = vsoftplus(TAIL_LOAD(rho, i, n));
    tail_store(w + i, n - i, wasm_f32x4_add(TAIL_LOAD(mu, i, n), wasm_f32x4_mul(s, TAIL_LOAD(eps, i, n))));
  }
}

EXPORT(softplus_reparam_grad)
void softplus_reparam_grad(const float *dy, const float *eps, const float *rho, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 g = wasm_f32x4_mul(wasm_v128_load(dy + i), wasm_v128_load(eps + i));
    wasm_v128_store(out + i, wasm_f32x4_mul(g, vsigmoid(wasm_v128_load(rho + i))));
  }
  if (i < n) {
    f4 g = wasm_f32x4_mul(TAIL_LOAD(dy, i, n), TAIL_LOAD(eps, i, n));
    tail_store(out + i, n - i, wasm_f32x4_mul(g, vsigmoid(TAIL_LOAD(rho, i, n))));
  }
}

/* per-lane KL terms (s^2 + d^2) / (2 v) - log s; log s = rho where softplus(rho) ~ e^rho */
static inline f4 kl_terms(f4 m, f4 r, f4 c, f4 inv2v) {
  f4 s = vsoftplus(r);
  f4 d = wasm_f32x4_sub(m, c);
  f4 logs = wasm_v128_bitselect(r, vlog(s), wasm_f32x4_lt(r, SPLAT(-30.0)));
  f4 q = wasm_f32x4_mul(wasm_f32x4_add(wasm_f32x4_mul(s, s), wasm_f32x4_mul(d, d)), inv2v);
  return wasm_f32x4_sub(q, logs);
}

/* sum_i KL(N(mu_i, softplus(rho_i)^2) || N(c_i, sigma_p^2)); c has 1 or n elements */
EXPORT(kl_softplus_normal)
double kl_softplus_normal(const float *mu, const float *rho, const float *centre, int clen, int n,
                          double prior_sigma) {
  f4 inv2v = SPLAT(1.0 / (2.0 * prior_sigma * prior_sigma));
  v128_t acc0 = wasm_f64x2_splat(0.0), acc1 = wasm_f64x2_splat(0.0);
  f4 c0 = wasm_f32x4_splat(centre[0]);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 c = clen == 1 ? c0 : wasm_v128_load(centre + i);
    f4 t = kl_terms(wasm_v128_load(mu + i), wasm_v128_load(rho + i), c, inv2v);
    acc0 = wasm_f64x2_add(acc0, wasm_f64x2_promote_low_f32x4(t));
    acc1 = wasm_f64x2_add(acc1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(t, t, 2, 3, 0, 1)));
  }
  double tail = 0.0;
  if (i < n) {
    f4 c = clen == 1 ? c0 : TAIL_LOAD(centre, i, n);
    f4 t = kl_terms(TAIL_LOAD(mu, i, n), TAIL_LOAD(rho, i, n), c, inv2v);
    tail = tail_sum(t, n - i);
  }
  double sum = wasm_f64x2_extract_lane(acc0, 0) + wasm_f64x2_extract_lane(acc0, 1) +
               wasm_f64x2_extract_lane(acc1, 0) + wasm_f64x2_extract_lane(acc1, 1) + tail;
  return sum + (double)n * (zig_log(prior_sigma) - 0.5);
}

/* dmu = g (mu - c) / v */
EXPORT(kl_normal_grad_mu)
void kl_normal_grad_mu(float dy, const float *mu, const float *centre, int clen, float *dmu, int n,
                       double prior_sigma) {
  f4 gv = wasm_f32x4_splat((float)(dy / (prior_sigma * prior_sigma)));
  f4 c0 = wasm_f32x4_splat(centre[0]);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 c = clen == 1 ? c0 : wasm_v128_load(centre + i);
    wasm_v128_store(dmu + i, wasm_f32x4_mul(gv, wasm_f32x4_sub(wasm_v128_load(mu + i), c)));
  }
  for (; i < n; i++) dmu[i] = wasm_f32x4_extract_lane(gv, 0) * (mu[i] - (clen == 1 ? centre[0] : centre[i]));
}

/* drho = g (s / v - 1 / s) sigmoid(rho), s = softplus(rho), with sigmoid(rho) / s -> 1 */
static inline f4 kl_grad_rho4(f4 g, f4 r, f4 invv) {
  f4 s = vsoftplus(r);
  f4 sig = vsigmoid(r);
  f4 ratio = wasm_v128_bitselect(SPLAT(1.0), wasm_f32x4_div(sig, s), wasm_f32x4_lt(r, SPLAT(-15.0)));
  return wasm_f32x4_mul(g, wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_mul(s, invv), sig), ratio));
}

EXPORT(kl_softplus_grad_rho)
void kl_softplus_grad_rho(float dy, const float *rho, float *drho, int n, double prior_sigma) {
  f4 invv = SPLAT(1.0 / (prior_sigma * prior_sigma));
  f4 g = wasm_f32x4_splat(dy);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(drho + i, kl_grad_rho4(g, wasm_v128_load(rho + i), invv));
  if (i < n) tail_store(drho + i, n - i, kl_grad_rho4(g, TAIL_LOAD(rho, i, n), invv));
}

/* variance of the posterior: v = softplus(rho)^2; dv/drho = 2 softplus(rho) sigmoid(rho) */
EXPORT(softplus_square)
void softplus_square(const float *rho, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 s = vsoftplus(wasm_v128_load(rho + i));
    wasm_v128_store(out + i, wasm_f32x4_mul(s, s));
  }
  if (i < n) {
    f4 s = vsoftplus(TAIL_LOAD(rho, i, n));
    tail_store(out + i, n - i, wasm_f32x4_mul(s, s));
  }
}

static inline f4 softplus_square_grad4(f4 g, f4 r) {
  return wasm_f32x4_mul(wasm_f32x4_mul(g, SPLAT(2.0)), wasm_f32x4_mul(vsoftplus(r), vsigmoid(r)));
}

EXPORT(softplus_square_grad)
void softplus_square_grad(const float *dy, const float *rho, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(out + i, softplus_square_grad4(wasm_v128_load(dy + i), wasm_v128_load(rho + i)));
  if (i < n) tail_store(out + i, n - i, softplus_square_grad4(TAIL_LOAD(dy, i, n), TAIL_LOAD(rho, i, n)));
}

EXPORT(local_reparam)
void local_reparam(const float *mean, const float *var, float *out, float *eps, int n, uint32_t seed,
                   float floor_, const double *tables) {
  normal_fill(eps, n, seed, 0.0f, 1.0f, tables);
  f4 fl = wasm_f32x4_splat(floor_);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 sd = wasm_f32x4_sqrt(wasm_f32x4_max(wasm_v128_load(var + i), fl));
    wasm_v128_store(out + i, wasm_f32x4_add(wasm_v128_load(mean + i), wasm_f32x4_mul(sd, wasm_v128_load(eps + i))));
  }
  for (; i < n; i++) {
    float v = var[i] >= floor_ ? var[i] : floor_;
    out[i] = mean[i] + __builtin_sqrtf(v) * eps[i];
  }
}

EXPORT(local_reparam_grad)
void local_reparam_grad(const float *dy, const float *eps, const float *var, float *out, int n,
                        float floor_) {
  f4 fl = wasm_f32x4_splat(floor_);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 v = wasm_v128_load(var + i);
    f4 g = wasm_f32x4_div(wasm_f32x4_mul(wasm_f32x4_mul(SPLAT(0.5), wasm_v128_load(dy + i)), wasm_v128_load(eps + i)),
                          wasm_f32x4_sqrt(v));
    wasm_v128_store(out + i, wasm_v128_and(g, wasm_f32x4_ge(v, fl)));
  }
  for (; i < n; i++) out[i] = var[i] >= floor_ ? 0.5f * dy[i] * eps[i] / __builtin_sqrtf(var[i]) : 0.0f;
}

/* ---- 2x2 / stride 2 max-pooling gradient (NHWC, no padding) ------------------------------- */

static inline void pool4(f4 v00, f4 v01, f4 v10, f4 v11, f4 g, f4 *d00, f4 *d01, f4 *d10, f4 *d11) {
  v128_t k0 = wasm_f32x4_gt(v00, SPLAT(-__builtin_inff()));
  f4 m = wasm_v128_bitselect(v00, SPLAT(-__builtin_inff()), k0);
  v128_t k1 = wasm_f32x4_gt(v01, m);
  m = wasm_v128_bitselect(v01, m, k1);
  v128_t k2 = wasm_f32x4_gt(v10, m);
  m = wasm_v128_bitselect(v10, m, k2);
  v128_t k3 = wasm_f32x4_gt(v11, m);
  *d11 = wasm_v128_and(g, k3);
  *d10 = wasm_v128_andnot(wasm_v128_and(g, k2), k3);
  *d01 = wasm_v128_andnot(wasm_v128_andnot(wasm_v128_and(g, k1), k2), k3);
  *d00 = wasm_v128_andnot(wasm_v128_andnot(wasm_v128_andnot(wasm_v128_and(g, k0), k1), k2), k3);
}

EXPORT(max_pool_grad_2x2)
void max_pool_grad_2x2(const float *x, const float *dy, float *dx, int B, int H, int W, int C) {
  int oh = H / 2, ow = W / 2, rs = W * C;
  for (int b = 0; b < B; b++) {
    const float *img = x + (long)b * H * rs;
    float *dimg = dx + (long)b * H * rs;
    for (int i = 0; i < oh; i++) {
      const float *r0 = img + 2 * i * rs, *r1 = r0 + rs;
      float *q0 = dimg + 2 * i * rs, *q1 = q0 + rs;
      const float *g = dy + ((long)(b * oh + i) * ow) * C;
      for (int j = 0; j < ow; j++) {
        int a = 2 * j * C;
        int c = 0;
        f4 d00, d01, d10, d11;
        for (; c + 4 <= C; c += 4) {
          pool4(wasm_v128_load(r0 + a + c), wasm_v128_load(r0 + a + C + c), wasm_v128_load(r1 + a + c),
                wasm_v128_load(r1 + a + C + c), wasm_v128_load(g + j * C + c), &d00, &d01, &d10, &d11);
          wasm_v128_store(q0 + a + c, d00);
          wasm_v128_store(q0 + a + C + c, d01);
          wasm_v128_store(q1 + a + c, d10);
          wasm_v128_store(q1 + a + C + c, d11);
        }
        if (c < C) {
          int k = C - c;
          pool4(tail_load(r0 + a + c, k), tail_load(r0 + a + C + c, k), tail_load(r1 + a + c, k),
                tail_load(r1 + a + C + c, k), tail_load(g + j * C + c, k), &d00, &d01, &d10, &d11);
          tail_store(q0 + a + c, k, d00);
          tail_store(q0 + a + C + c, k, d01);
          tail_store(q1 + a + c, k, d10);
          tail_store(q1 + a + C + c, k, d11);
        }
      }
      /* an odd last column gets no gradient */
      if (W > 2 * ow) {
        for (int c = 0; c < C; c++) {
          q0[2 * ow * C + c] = 0.0f;
          q1[2 * ow * C + c] = 0.0f;
        }
      }
    }
    /* an odd last row gets no gradient */
    if (H > 2 * oh) {
      float *q = dimg + 2 * oh * rs;
      for (int t = 0; t < rs; t++) q[t] = 0.0f;
    }
  }
}

/* ---- ReLU gradient: dx = dy where x > 0, 0 where x <= 0, NaN where x is NaN (as step(x)) ---- */

EXPORT(relu_grad)
void relu_grad(const float *dy, const float *x, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 xv = wasm_v128_load(x + i);
    f4 g = wasm_v128_and(wasm_v128_load(dy + i), wasm_f32x4_gt(xv, SPLAT(0.0)));
    /* x != x only for NaN: propagate it */
    wasm_v128_store(out + i, wasm_v128_bitselect(xv, g, wasm_f32x4_ne(xv, xv)));
  }
  for (; i < n; i++) out[i] = x[i] != x[i] ? x[i] : (x[i] > 0.0f ? dy[i] : 0.0f);
}

/* ---- ReLU and 2x2 / stride 2 max pooling, forward ------------------------------------------ */

EXPORT(relu)
void relu(const float *x, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 v = wasm_v128_load(x + i);
    /* max(x, 0) keeping NaN: x where x > 0 or x is NaN */
    wasm_v128_store(out + i, wasm_v128_and(v, wasm_v128_or(wasm_f32x4_gt(v, SPLAT(0.0)), wasm_f32x4_ne(v, v))));
  }
  for (; i < n; i++) out[i] = (x[i] > 0.0f || x[i] != x[i]) ? x[i] : 0.0f;
}

/* out[b, i, j, c] = max over the 2x2 window (NaN propagates) */
EXPORT(max_pool_2x2)
void max_pool_2x2(const float *x, float *out, int B, int H, int W, int C) {
  int oh = H / 2, ow = W / 2, rs = W * C;
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < oh; i++) {
      const float *r0 = x + ((long)b * H + 2 * i) * rs, *r1 = r0 + rs;
      float *o = out + ((long)(b * oh + i) * ow) * C;
      for (int j = 0; j < ow; j++) {
        int a = 2 * j * C, c = 0;
        for (; c + 4 <= C; c += 4) {
          f4 m = wasm_f32x4_max(wasm_f32x4_max(wasm_v128_load(r0 + a + c), wasm_v128_load(r0 + a + C + c)),
                                wasm_f32x4_max(wasm_v128_load(r1 + a + c), wasm_v128_load(r1 + a + C + c)));
          wasm_v128_store(o + j * C + c, m);
        }
        if (c < C) {
          int k = C - c;
          f4 m = wasm_f32x4_max(wasm_f32x4_max(tail_load(r0 + a + c, k), tail_load(r0 + a + C + c, k)),
                                wasm_f32x4_max(tail_load(r1 + a + c, k), tail_load(r1 + a + C + c, k)));
          tail_store(o + j * C + c, k, m);
        }
      }
    }
  }
}

/* ---- filter gradient of a single-input-channel convolution (NHWC, unit stride/dilation) ----
 * dw[kh, kw, 0, co] = sum_{b, oy, ox} xpad[b, oy + kh, ox + kw] * dy[b, oy, ox, co], the input
 * padded by (pt, pl) with zeros. One pass over dy: for each output row, every (kh, kw) adds its
 * row sum into a float32 partial of the image (L1-resident), vectorised over co, and each image's
 * partial is added into float64 totals; the last, partial group of co is loaded with 32/64-bit
 * zero-extending loads and stored lane by lane, so nothing is read or written outside x, dy, dw
 * and the scratch (8-byte aligned, KH*KW*CO float64 totals then KH*KW*CO float32 partials).
 * dw is [KH, KW, 1, CO]. */

static inline f4 load_part(const float *p, int r) {
  if (r == 4) return wasm_v128_load(p);
  if (r == 2) return wasm_v128_load64_zero(p);
  if (r == 1) return wasm_v128_load32_zero(p);
  return wasm_f32x4_replace_lane(wasm_v128_load64_zero(p), 2, p[2]);
}

/* the row sums of one (kh, kw) tap over output columns [x0, x1), co group at c0 (r lanes) */
static inline f4 tap_row(const float *xr, const float *dr, int x0, int x1, int CO, int r) {
  f4 a0 = wasm_f32x4_splat(0.0f), a1 = a0;
  int ox = x0;
  for (; ox + 2 <= x1; ox += 2) {
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(xr[ox]), load_part(dr + ox * CO, r)));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_splat(xr[ox + 1]), load_part(dr + (ox + 1) * CO, r)));
  }
  if (ox < x1) a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(xr[ox]), load_part(dr + ox * CO, r)));
  return wasm_f32x4_add(a0, a1);
}

static inline void add_part(float *o, int r, f4 v) {
  if (r == 4) {
    wasm_v128_store(o, wasm_f32x4_add(wasm_v128_load(o), v));
  } else {
    o[0] += wasm_f32x4_extract_lane(v, 0);
    if (r > 1) o[1] += wasm_f32x4_extract_lane(v, 1);
    if (r > 2) o[2] += wasm_f32x4_extract_lane(v, 2);
  }
}

/* KW = 5 and 5 <= CO <= 8 (LeNet's first layers): one pass over the interior columns of a row
 * serves all five kw taps of both co groups (10 accumulators; each dy vector loaded once). */
static void row_kw5_co8(const float *xr, const float *dr, float *o, int x0, int x1, int CO) {
  int r1 = CO - 4;
  f4 z = wasm_f32x4_splat(0.0f);
  f4 a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, b0 = z, b1 = z, b2 = z, b3 = z, b4 = z;
  for (int ox = x0; ox < x1; ox++) {
    const float *d = dr + ox * CO;
    f4 g0 = wasm_v128_load(d);
    f4 g1 = load_part(d + 4, r1);
    const float *xp = xr + ox;
    f4 v0 = wasm_f32x4_splat(xp[0]), v1 = wasm_f32x4_splat(xp[1]), v2 = wasm_f32x4_splat(xp[2]);
    f4 v3 = wasm_f32x4_splat(xp[3]), v4 = wasm_f32x4_splat(xp[4]);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(v0, g0));
    b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(v0, g1));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(v1, g0));
    b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(v1, g1));
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(v2, g0));
    b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(v2, g1));
    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(v3, g0));
    b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(v3, g1));
    a4 = wasm_f32x4_add(a4, wasm_f32x4_mul(v4, g0));
    b4 = wasm_f32x4_add(b4, wasm_f32x4_mul(v4, g1));
  }
  add_part(o, 4, a0);
  add_part(o + 4, r1, b0);
  add_part(o + CO, 4, a1);
  add_part(o + CO + 4, r1, b1);
  add_part(o + 2 * CO, 4, a2);
  add_part(o + 2 * CO + 4, r1, b2);
  add_part(o + 3 * CO, 4, a3);
  add_part(o + 3 * CO + 4, r1, b3);
  add_part(o + 4 * CO, 4, a4);
  add_part(o + 4 * CO + 4, r1, b4);
}

EXPORT(conv_filter_grad_c1)
void conv_filter_grad_c1(const float *x, const float *dy, float *dw, double *scratch, int B, int H,
                         int W, int OH, int OW, int KH, int KW, int CO, int pt, int pl) {
  int nv = (CO + 3) / 4, K = KH * KW * CO;
  double *total = scratch;
  float *part = (float *)(scratch + K);
  /* columns where every kw tap is inside the image: ox - pl >= 0 and ox + KW - 1 - pl < W */
  int in0 = pl, in1 = W - KW + 1 + pl < OW ? W - KW + 1 + pl : OW;
  int fast = KW == 5 && CO >= 5 && CO <= 8 && in1 > in0;
  for (int t = 0; t < K; t++) total[t] = 0.0;
  for (int b = 0; b < B; b++) {
    for (int t = 0; t < K; t++) part[t] = 0.0f;
    for (int oy = 0; oy < OH; oy++) {
      const float *drow = dy + ((long)(b * OH + oy) * OW) * CO;
      for (int kh = 0; kh < KH; kh++) {
        int iy = oy + kh - pt;
        if (iy < 0 || iy >= H) continue;
        const float *xrow = x + ((long)b * H + iy) * W;
        float *orow = part + kh * KW * CO;
        if (fast) row_kw5_co8(xrow - pl, drow, orow, in0, in1, CO);
        for (int kw = 0; kw < KW; kw++) {
          /* output columns whose input column ox + kw - pl is inside the image */
          int x0 = pl - kw > 0 ? pl - kw : 0;
          int x1 = W + pl - kw < OW ? W + pl - kw : OW;
          const float *xr = xrow + (kw - pl);
          float *o = orow + kw * CO;
          for (int g = 0; g < nv; g++) {
            int c0 = 4 * g, r = CO - c0 < 4 ? CO - c0 : 4;
            const float *dr = drow + c0;
            if (fast) {
              /* only the edge columns outside [in0, in1) are left */
              f4 e = wasm_f32x4_splat(0.0f);
              if (x0 < in0) e = wasm_f32x4_add(e, tap_row(xr, dr, x0, in0 < x1 ? in0 : x1, CO, r));
              if (x1 > in1) e = wasm_f32x4_add(e, tap_row(xr, dr, in1 > x0 ? in1 : x0, x1, CO, r));
              add_part(o + c0, r, e);
            } else if (x1 > x0) {
              add_part(o + c0, r, tap_row(xr, dr, x0, x1, CO, r));
            }
          }
        }
      }
    }
    for (int t = 0; t < K; t++) total[t] += part[t];
  }
  for (int t = 0; t < K; t++) dw[t] = (float)total[t];
}

/* ---- Adam update (float32, the stock tfjs formula) -----------------------------------------
 * m' = b1 m + (1 - b1) g; v' = b2 v + (1 - b2) g^2; x' = x - lr (m' c1) / (sqrt(v' c2) + eps),
 * c1 = 1 / (1 - b1^t), c2 = 1 / (1 - b2^t). */
static inline void adam4(const float *x, const float *m, const float *v, const float *g, float *xo,
                         float *mo, float *vo, f4 b1, f4 d1, f4 b2, f4 d2, f4 eps, f4 lr, f4 c1,
                         f4 c2) {
  f4 gv = wasm_v128_load(g);
  f4 mi = wasm_f32x4_add(wasm_f32x4_mul(b1, wasm_v128_load(m)), wasm_f32x4_mul(d1, gv));
  f4 vi = wasm_f32x4_add(wasm_f32x4_mul(b2, wasm_v128_load(v)), wasm_f32x4_mul(d2, wasm_f32x4_mul(gv, gv)));
  f4 den = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_mul(vi, c2)), eps);
  f4 step = wasm_f32x4_div(wasm_f32x4_mul(lr, wasm_f32x4_mul(mi, c1)), den);
  wasm_v128_store(mo, mi);
  wasm_v128_store(vo, vi);
  wasm_v128_store(xo, wasm_f32x4_sub(wasm_v128_load(x), step));
}

EXPORT(adam)
void adam(const float *x, const float *m, const float *v, const float *g, float *xo, float *mo,
          float *vo, int n, float beta1, float beta2, float epsilon, float lr, float c1, float c2) {
  f4 b1 = wasm_f32x4_splat(beta1), d1 = wasm_f32x4_splat(1.0f - beta1);
  f4 b2 = wasm_f32x4_splat(beta2), d2 = wasm_f32x4_splat(1.0f - beta2);
  f4 e = wasm_f32x4_splat(epsilon), l = wasm_f32x4_splat(lr);
  f4 k1 = wasm_f32x4_splat(c1), k2 = wasm_f32x4_splat(c2);
  int i = 0;
  for (; i + 4 <= n; i += 4) adam4(x + i, m + i, v + i, g + i, xo + i, mo + i, vo + i, b1, d1, b2, d2, e, l, k1, k2);
  for (; i < n; i++) {
    float mi = beta1 * m[i] + (1.0f - beta1) * g[i];
    float vi = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    mo[i] = mi;
    vo[i] = vi;
    xo[i] = x[i] - lr * (mi * c1) / (__builtin_sqrtf(vi * c2) + epsilon);
  }
}

/* ---- softplus and sigmoid, forward (float32, vector exp/log) -------------------------------- */

EXPORT(softplus)
void softplus(const float *x, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, vsoftplus(wasm_v128_load(x + i)));
  if (i < n) tail_store(out + i, n - i, vsoftplus(TAIL_LOAD(x, i, n)));
}

EXPORT(sigmoid)
void sigmoid(const float *x, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, vsigmoid(wasm_v128_load(x + i)));
  if (i < n) tail_store(out + i, n - i, vsigmoid(TAIL_LOAD(x, i, n)));
}

/* softplus gradient: dx = dy * sigmoid(x), one pass */
EXPORT(softplus_grad)
void softplus_grad(const float *dy, const float *x, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(out + i, wasm_f32x4_mul(wasm_v128_load(dy + i), vsigmoid(wasm_v128_load(x + i))));
  if (i < n) tail_store(out + i, n - i, wasm_f32x4_mul(TAIL_LOAD(dy, i, n), vsigmoid(TAIL_LOAD(x, i, n))));
}

/* ---- fused Normal kernels ---------------------------------------------------------------- */
#include "normal_simd.c"

/* ---- convolution input gradient: col2im ------------------------------------------------ */
#include "col2im_simd.c"

/* ---- GEMM (matmul, im2col convolutions) ------------------------------------------------- */
#include "gemm_simd.c"
