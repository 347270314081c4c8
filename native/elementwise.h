/*
 * Element-wise loops of the native path, instantiated once per instruction set by
 * deepprob_native.c right after gemm_kernel.h (same VW and SUF(name), and that file's vector type
 * and helpers). Written for deepprob.
 *
 *   op 0, ReLU:           out_i = x_i < 0 ? 0 : x_i                        (NaN stays NaN)
 *   op 1, ReLU gradient:  out_i = x_i > 0 ? dy_i : (x_i is NaN ? x_i : 0)  (a = dy, b = x)
 */
static void SUF(eltwise)(int op, const float *restrict a, const float *restrict b,
                         float *restrict out, long n) {
  const SUF(vf) zero = {0};
  long i = 0;
  if (op == 0) {
    for (; i + VW <= n; i += VW) {
      const SUF(vf) x = SUF(loadu)(a + i);
      const SUF(vi) keep = ~(x < zero); /* all ones where x >= 0 or NaN */
      SUF(storeu)(out + i, (SUF(vf))((SUF(vi))x & keep));
    }
    for (; i < n; i++) out[i] = a[i] < 0.0f ? 0.0f : a[i];
  } else {
    for (; i + VW <= n; i += VW) {
      const SUF(vf) dy = SUF(loadu)(a + i), x = SUF(loadu)(b + i);
      const SUF(vi) pos = x > zero, nan = x != x;
      const SUF(vi) r = ((SUF(vi))dy & pos) | ((SUF(vi))x & nan);
      SUF(storeu)(out + i, (SUF(vf))r);
    }
    for (; i < n; i++) {
      const float x = b[i];
      out[i] = x > 0.0f ? a[i] : x != x ? x : 0.0f;
    }
  }
}
