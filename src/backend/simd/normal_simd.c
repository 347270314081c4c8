/*
 * Fused Normal kernels (kernels/normal.ts) in WebAssembly SIMD128, on the tfjs wasm heap.
 *
 * Not a module of its own: deepprob_simd.c includes it at its end (it uses that file's EXPORT,
 * f4, SPLAT, vlog, normal_fill and the TAIL_LOAD / tail_store / tail_sum helpers), so it is
 * built by scripts/build-simd.mjs with the rest (declared in simd/loader.ts's SimdExports).
 *
 * loc and scale have 1 or n elements (nl, ns); the log-density kernels return 1 (and write
 * nothing useful) when a scale is not a positive normal float32 (zero, subnormal, negative,
 * infinite, NaN), where vlog is not valid: the caller then runs its exact JavaScript loop.
 *
 * - normal_rsample: x = loc + scale * eps (eps drawn by the caller, e.g. normal_fill).
 * - normal_log_prob: out_i = -z_i^2 / 2 - log(scale_i) - log(2 pi) / 2, z = (x - loc) / scale.
 * - normal_log_prob_sum: out[0] = sum_i of the same, accumulated in float64.
 * - normal_log_prob_grad: one of dx = -g z / s, dloc = g z / s, dscale = g (z^2 - 1) / s
 *   (g = dy_i, or dy_0 when dy has one element), per element or summed for a one-element
 *   parameter.
 */

#define NORMAL_HALF_LOG_2PI 0.91893853320467274178

/* a vector of p[i..i+3], or the splat v when the array has one element */
#define NLOAD(p, len, v, i) ((len) == 1 ? (v) : wasm_v128_load((p) + (i)))
#define NTAIL(p, len, v, i, n) ((len) == 1 ? (v) : TAIL_LOAD(p, i, n))

/* lanes where s is a positive normal finite float32 */
static inline v128_t normal_ok(f4 s) {
  return wasm_v128_and(wasm_f32x4_ge(s, SPLAT(1.17549435e-38f)), wasm_f32x4_lt(s, SPLAT(__builtin_inff())));
}

/* the last n - i (< 4) scales, padded with 1 (which passes normal_ok) */
static inline f4 normal_tail_scale(const float *scale, int i, int n) {
  v128_t valid = wasm_i32x4_lt(wasm_i32x4_make(0, 1, 2, 3), wasm_i32x4_splat(n - i));
  return wasm_v128_bitselect(TAIL_LOAD(scale, i, n), SPLAT(1.0), valid);
}

/* -z^2/2 - log s, z = (x - l) / s */
static inline f4 normal_terms(f4 x, f4 l, f4 s) {
  f4 z = wasm_f32x4_div(wasm_f32x4_sub(x, l), s);
  return wasm_f32x4_sub(wasm_f32x4_mul(SPLAT(-0.5), wasm_f32x4_mul(z, z)), vlog(s));
}

EXPORT(normal_rsample)
void normal_rsample(const float *loc, int nl, const float *scale, int ns, const float *eps, float *x, int n) {
  f4 l0 = wasm_f32x4_splat(loc[0]), s0 = wasm_f32x4_splat(scale[0]);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 v = wasm_f32x4_add(NLOAD(loc, nl, l0, i), wasm_f32x4_mul(NLOAD(scale, ns, s0, i), wasm_v128_load(eps + i)));
    wasm_v128_store(x + i, v);
  }
  for (; i < n; i++) x[i] = (nl == 1 ? loc[0] : loc[i]) + (ns == 1 ? scale[0] : scale[i]) * eps[i];
}

EXPORT(normal_log_prob)
int normal_log_prob(const float *x, const float *loc, int nl, const float *scale, int ns, float *out, int n) {
  f4 l0 = wasm_f32x4_splat(loc[0]), s0 = wasm_f32x4_splat(scale[0]);
  f4 c = SPLAT(NORMAL_HALF_LOG_2PI);
  v128_t ok = wasm_i32x4_splat(-1);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 s = NLOAD(scale, ns, s0, i);
    ok = wasm_v128_and(ok, normal_ok(s));
    wasm_v128_store(out + i, wasm_f32x4_sub(normal_terms(wasm_v128_load(x + i), NLOAD(loc, nl, l0, i), s), c));
  }
  if (i < n) {
    /* padded lanes hold scale 1 so that they pass the check */
    f4 s = ns == 1 ? s0 : normal_tail_scale(scale, i, n);
    ok = wasm_v128_and(ok, normal_ok(s));
    tail_store(out + i, n - i, wasm_f32x4_sub(normal_terms(TAIL_LOAD(x, i, n), NTAIL(loc, nl, l0, i, n), s), c));
  }
  return wasm_i32x4_all_true(ok) ? 0 : 1;
}

EXPORT(normal_log_prob_sum)
int normal_log_prob_sum(const float *x, const float *loc, int nl, const float *scale, int ns, float *out, int n) {
  f4 l0 = wasm_f32x4_splat(loc[0]), s0 = wasm_f32x4_splat(scale[0]);
  v128_t ok = wasm_i32x4_splat(-1);
  v128_t acc0 = wasm_f64x2_splat(0.0), acc1 = wasm_f64x2_splat(0.0);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 s = NLOAD(scale, ns, s0, i);
    ok = wasm_v128_and(ok, normal_ok(s));
    f4 t = normal_terms(wasm_v128_load(x + i), NLOAD(loc, nl, l0, i), s);
    acc0 = wasm_f64x2_add(acc0, wasm_f64x2_promote_low_f32x4(t));
    acc1 = wasm_f64x2_add(acc1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(t, t, 2, 3, 0, 1)));
  }
  double tail = 0.0;
  if (i < n) {
    f4 s = ns == 1 ? s0 : normal_tail_scale(scale, i, n);
    ok = wasm_v128_and(ok, normal_ok(s));
    tail = tail_sum(normal_terms(TAIL_LOAD(x, i, n), NTAIL(loc, nl, l0, i, n), s), n - i);
  }
  double sum = wasm_f64x2_extract_lane(acc0, 0) + wasm_f64x2_extract_lane(acc0, 1) +
               wasm_f64x2_extract_lane(acc1, 0) + wasm_f64x2_extract_lane(acc1, 1) + tail;
  out[0] = (float)(sum - (double)n * NORMAL_HALF_LOG_2PI);
  return wasm_i32x4_all_true(ok) ? 0 : 1;
}

/* the per-element gradient wrt x (0), loc (1) or scale (2): -g z / s, g z / s, g (z^2 - 1) / s */
static inline f4 normal_grad4(f4 g, f4 x, f4 l, f4 s, int wrt) {
  f4 inv = wasm_f32x4_div(SPLAT(1.0), s);
  f4 z = wasm_f32x4_mul(wasm_f32x4_sub(x, l), inv);
  if (wrt == 2) return wasm_f32x4_mul(wasm_f32x4_mul(g, wasm_f32x4_sub(wasm_f32x4_mul(z, z), SPLAT(1.0))), inv);
  f4 d = wasm_f32x4_mul(wasm_f32x4_mul(g, z), inv);
  return wrt == 0 ? wasm_f32x4_neg(d) : d;
}

/*
 * out = the gradient wrt x (wrt 0), loc (1) or scale (2) of sum_i dy_i log N(x_i; loc, scale):
 * per element when nout = n, summed in float64 into out[0] when nout = 1 (a one-element loc or
 * scale). dy, loc and scale have 1 or n elements (ndy, nl, ns).
 */
EXPORT(normal_log_prob_grad)
void normal_log_prob_grad(const float *dy, int ndy, const float *x, const float *loc, int nl, const float *scale,
                          int ns, float *out, int nout, int n, int wrt) {
  f4 g0 = wasm_f32x4_splat(dy[0]), l0 = wasm_f32x4_splat(loc[0]), s0 = wasm_f32x4_splat(scale[0]);
  v128_t acc0 = wasm_f64x2_splat(0.0), acc1 = wasm_f64x2_splat(0.0);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    f4 t = normal_grad4(NLOAD(dy, ndy, g0, i), wasm_v128_load(x + i), NLOAD(loc, nl, l0, i), NLOAD(scale, ns, s0, i), wrt);
    if (nout == n) {
      wasm_v128_store(out + i, t);
    } else {
      acc0 = wasm_f64x2_add(acc0, wasm_f64x2_promote_low_f32x4(t));
      acc1 = wasm_f64x2_add(acc1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(t, t, 2, 3, 0, 1)));
    }
  }
  double tail = 0.0;
  if (i < n) {
    f4 s = ns == 1 ? s0 : normal_tail_scale(scale, i, n);
    f4 t = normal_grad4(NTAIL(dy, ndy, g0, i, n), TAIL_LOAD(x, i, n), NTAIL(loc, nl, l0, i, n), s, wrt);
    if (nout == n) tail_store(out + i, n - i, t);
    else tail = tail_sum(t, n - i);
  }
  if (nout != n) {
    out[0] = (float)(wasm_f64x2_extract_lane(acc0, 0) + wasm_f64x2_extract_lane(acc0, 1) +
                     wasm_f64x2_extract_lane(acc1, 0) + wasm_f64x2_extract_lane(acc1, 1) + tail);
  }
}
