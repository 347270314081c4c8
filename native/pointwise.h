/*
 * Element-wise kernels with transcendental functions (softplus, sigmoid, log), the fused Adam
 * update and the variational estimators' fused kernels, instantiated once per instruction set by
 * deepprob_native.c right after gemm_kernel.h (same VW and SUF(name), and that file's vector type
 * and helpers). Written for deepprob.
 *
 * The vector exp and log are range reduction + polynomial (exp: x = n ln2 + r, |r| <= ln2/2,
 * e^r by a degree-6 polynomial, 2^n into the exponent bits; log: x = 2^e m, m in [sqrt(1/2),
 * sqrt(2)), log(m) by a degree-9 polynomial in m - 1), both within a few float32 ulps. Then
 *
 *   softplus(x) = max(x, 0) + log1p(e^{-|x|}),  log1p(t) = log(u) t / (u - 1) with u = 1 + t
 *                 (exact for the tiny t where u rounds to 1: log1p(t) = t);
 *   sigmoid(x)  = 1 / (1 + e^{-x}) for x >= 0, e^x / (1 + e^x) otherwise.
 *
 * Ops (pointers a..g are the binding's p0..p6, scalars s0..s5):
 *   PW_SOFTPLUS        g0 = softplus(a)
 *   PW_SOFTPLUS_GRAD   c = a * sigmoid(b)                          (a = dy, b = x)
 *   PW_REPARAM         d = a + softplus(b) c                       (mu, rho, eps)
 *   PW_REPARAM_GRAD    d = a b sigmoid(c)                          (dy, eps, rho)
 *   PW_KL              sum_i (s_i^2 + (a_i - c_i)^2) / (2 s0^2) - log s_i,  s_i = softplus(b_i)
 *                      (c: one value when s1 = 1, else one per element)
 *   PW_KL_GRAD_MU      c = s0 (a - b) / s2^2                       (b: one value when s1 = 1)
 *   PW_KL_GRAD_RHO     b = s0 (s / s1^2 - 1 / s) sigmoid(a),  s = softplus(a)
 *   PW_ADAM            m' = s0 m + (1 - s0) g, v' = s1 v + (1 - s1) g^2,
 *                      x' = x - s3 (m' s4) / (sqrt(v' s5) + s2)   (x, m, v, g -> x', m', v')
 */

static inline SUF(vf) SUF(vsplat)(float v) {
  SUF(vf) r;
  for (int i = 0; i < VW; i++) r[i] = v;
  return r;
}

static inline SUF(vf) SUF(vselect)(SUF(vi) mask, SUF(vf) a, SUF(vf) b) {
  return (SUF(vf))(((SUF(vi))a & mask) | ((SUF(vi))b & ~mask));
}

/* e^x, x clamped to [-87.3, 88.7] (e^x in the normal range); 0 below -87.3 (e^x is subnormal
 * there, flushed to zero as the kernels run with FTZ; the clamp alone gave e^-87.3 = 1.2e-38, e.g.
 * softplus(-inf) = 1.2e-38). */
static inline SUF(vf) SUF(vexp)(SUF(vf) x) {
  const SUF(vf) hi = SUF(vsplat)(88.7f), lo = SUF(vsplat)(-87.3f);
  const SUF(vi) under = x < lo;
  x = SUF(vselect)(x > hi, hi, x);
  x = SUF(vselect)(x < lo, lo, x);
  /* n = floor(x log2(e) + 1/2) */
  SUF(vf) fx = x * 1.44269504088896341f + 0.5f;
  SUF(vf) t = __builtin_convertvector(__builtin_convertvector(fx, SUF(vi)), SUF(vf));
  t -= SUF(vselect)(t > fx, SUF(vsplat)(1.0f), SUF(vsplat)(0.0f));
  /* r = x - n ln2, ln2 in two parts */
  SUF(vf) r = x - t * 0.693359375f + t * 2.12194440e-4f;
  SUF(vf) p = 1.9875691500e-4f * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  SUF(vi) e = (__builtin_convertvector(t, SUF(vi)) + 127) << 23;
  return SUF(vselect)(under, SUF(vsplat)(0.0f), p * (SUF(vf))e);
}

/* log(x) for normal x > 0 (no special cases: callers pass positive normal numbers). */
static inline SUF(vf) SUF(vlog)(SUF(vf) x) {
  SUF(vi) bits = (SUF(vi))x;
  SUF(vi) e = ((bits >> 23) & 0xff) - 126;
  SUF(vf) m = (SUF(vf))((bits & 0x007fffff) | 0x3f000000); /* in [1/2, 1) */
  SUF(vi) small = m < 0.707106781186547524f;
  SUF(vf) ef = __builtin_convertvector(e, SUF(vf)) -
               SUF(vselect)(small, SUF(vsplat)(1.0f), SUF(vsplat)(0.0f));
  m = m + SUF(vselect)(small, m, SUF(vsplat)(0.0f)) - 1.0f;
  SUF(vf) z = m * m;
  SUF(vf) y = 7.0376836292e-2f * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y += ef * -2.12194440e-4f;
  y -= 0.5f * z;
  return m + y + ef * 0.693359375f;
}

/* log(1 + t) for t in [0, 1]. */
static inline SUF(vf) SUF(vlog1p01)(SUF(vf) t) {
  SUF(vf) u = t + 1.0f;
  SUF(vf) d = u - 1.0f;
  SUF(vi) exact = d == SUF(vsplat)(0.0f);
  SUF(vf) safe = SUF(vselect)(exact, SUF(vsplat)(1.0f), d);
  return SUF(vselect)(exact, t, SUF(vlog)(u) * (t / safe));
}

static inline SUF(vf) SUF(vsoftplus)(SUF(vf) x) {
  SUF(vf) zero = {0};
  SUF(vf) ax = SUF(vselect)(x < zero, -x, x);
  SUF(vf) pos = SUF(vselect)(x > zero, x, zero);
  return pos + SUF(vlog1p01)(SUF(vexp)(-ax));
}

static inline SUF(vf) SUF(vsigmoid)(SUF(vf) x) {
  SUF(vf) zero = {0};
  SUF(vf) ax = SUF(vselect)(x < zero, -x, x);
  SUF(vf) e = SUF(vexp)(-ax);
  SUF(vf) r = 1.0f / (1.0f + e);
  return SUF(vselect)(x < zero, e * r, r);
}

/* log(softplus(x)): log of the value, and x itself below -15 (softplus(x) = e^x (1 - e^x/2 ..):
 * log = x - e^x/2 ..., equal to x in float32; avoids the underflow of softplus below -87). */
static inline SUF(vf) SUF(vlogsoftplus)(SUF(vf) x, SUF(vf) s) {
  SUF(vi) tiny = x < -15.0f;
  return SUF(vselect)(tiny, x, SUF(vlog)(SUF(vselect)(tiny, SUF(vsplat)(1.0f), s)));
}

/* sigmoid(x) / softplus(x), -> 1 for x -> -inf (both ~ e^x). */
static inline SUF(vf) SUF(vsig_over_sp)(SUF(vf) x, SUF(vf) sig, SUF(vf) s) {
  SUF(vi) tiny = x < -15.0f;
  return SUF(vselect)(tiny, SUF(vsplat)(1.0f), sig / SUF(vselect)(tiny, SUF(vsplat)(1.0f), s));
}

static inline SUF(vf) SUF(vsqrt)(SUF(vf) x) {
  SUF(vf) r;
  for (int i = 0; i < VW; i++) r[i] = __builtin_sqrtf(x[i]);
  return r;
}

/* A partial vector of `n` < VW floats (the rest 1: every op is finite there). */
static inline SUF(vf) SUF(vload_part)(const float *p, long n) {
  SUF(vf) v = SUF(vsplat)(1.0f);
  for (long i = 0; i < n; i++) v[i] = p[i];
  return v;
}

static inline void SUF(vstore_part)(float *p, SUF(vf) v, long n) {
  for (long i = 0; i < n; i++) p[i] = v[i];
}

/* The op on elements [i0, i1); returns the partial sum of PW_KL (0 for the others). */
static double SUF(pointwise)(int op, float *const *p, const double *s, long i0, long i1) {
  double total = 0.0;
  const float s0 = (float)s[0], s1 = (float)s[1], s2 = (float)s[2];
  SUF(vf) kacc = {0};
  long since = 0;
  for (long i = i0; i < i1; i += VW) {
    const long w = i1 - i < VW ? i1 - i : VW;
#define LD(k) (w == VW ? SUF(loadu)(p[k] + i) : SUF(vload_part)(p[k] + i, w))
#define ST(k, v)                                    \
  do {                                              \
    if (w == VW)                                    \
      SUF(storeu)(p[k] + i, (v));                   \
    else                                            \
      SUF(vstore_part)(p[k] + i, (v), w);           \
  } while (0)
    switch (op) {
      case PW_SOFTPLUS:
        ST(1, SUF(vsoftplus)(LD(0)));
        break;
      case PW_SOFTPLUS_GRAD:
        ST(2, LD(0) * SUF(vsigmoid)(LD(1)));
        break;
      case PW_REPARAM:
        ST(3, LD(0) + SUF(vsoftplus)(LD(1)) * LD(2));
        break;
      case PW_REPARAM_GRAD:
        ST(3, LD(0) * LD(1) * SUF(vsigmoid)(LD(2)));
        break;
      case PW_KL: {
        const SUF(vf) rho = LD(1);
        const SUF(vf) sp = SUF(vsoftplus)(rho);
        const SUF(vf) c = s[1] == 1 ? SUF(vsplat)(p[2][0]) : LD(2);
        const SUF(vf) d = LD(0) - c;
        SUF(vf) term = (sp * sp + d * d) * (0.5f / (s0 * s0)) - SUF(vlogsoftplus)(rho, sp);
        if (w < VW)
          for (long j = w; j < VW; j++) term[j] = 0.0f;
        kacc += term;
        /* flush the float lanes into the double total every 64 vectors */
        if (++since == 64) {
          for (int j = 0; j < VW; j++) total += kacc[j];
          kacc = (SUF(vf)){0};
          since = 0;
        }
        break;
      }
      case PW_KL_GRAD_MU: {
        const SUF(vf) c = s[1] == 1 ? SUF(vsplat)(p[1][0]) : LD(1);
        ST(2, (LD(0) - c) * (s0 / (s2 * s2)));
        break;
      }
      case PW_KL_GRAD_RHO: {
        const SUF(vf) rho = LD(0);
        const SUF(vf) sp = SUF(vsoftplus)(rho), sig = SUF(vsigmoid)(rho);
        ST(1, s0 * (sp * sig * (1.0f / (s1 * s1)) - SUF(vsig_over_sp)(rho, sig, sp)));
        break;
      }
      case PW_ADAM: {
        const float b1 = s0, b2 = s1, eps = s2, lr = (float)s[3], c1 = (float)s[4],
                    c2 = (float)s[5];
        const SUF(vf) g = LD(3);
        /* 1 - beta in double, then rounded (as the stock update's float32 scalars) */
        const float d1 = (float)(1.0 - s[0]), d2 = (float)(1.0 - s[1]);
        const SUF(vf) m = b1 * LD(1) + d1 * g;
        const SUF(vf) v = b2 * LD(2) + d2 * g * g;
        ST(5, m);
        ST(6, v);
        ST(4, LD(0) - lr * (m * c1) / (SUF(vsqrt)(v * c2) + eps));
        break;
      }
      default:
        break;
    }
#undef LD
#undef ST
  }
  for (int j = 0; j < VW; j++) total += kacc[j];
  return total;
}
