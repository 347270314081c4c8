/* ---- col2im: the scatter-add half of a convolution's input gradient ----------------------
 *
 * For a 2-D convolution (NHWC, filter [KH, KW, C, CO], strides sh/sw, pads pt/pl, unit dilation)
 * the input gradient is dx = col2im(dy W^T), where cols = dy W^T has one row per output pixel
 * (b, oy, ox) and one column per filter tap (kh, kw, c):
 *
 *   dx[b, oy*sh - pt + kh, ox*sw - pl + kw, c] += cols[(b, oy, ox), (kh, kw, c)]
 *
 * For fixed (b, oy, ox, kh) the taps kw = 0..KW-1 land on consecutive input columns, so the
 * KW*C values are added to one contiguous run of dx (clipped at the image border). dx must be
 * zeroed by the caller. Each image's rows are visited in order, so the result does not depend on
 * anything but the inputs. Included by deepprob_simd.c. */

EXPORT(col2im_add)
void col2im_add(const float *cols, float *dx, int B, int H, int W, int C, int OH, int OW, int KH,
                int KW, int sh, int sw, int pt, int pl) {
  int K = KH * KW * C;
  const float *row = cols;
  for (int b = 0; b < B; b++) {
    float *img = dx + (long)b * H * W * C;
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++, row += K) {
        int ix0 = ox * sw - pl;
        int kw0 = ix0 < 0 ? -ix0 : 0;
        int kw1 = ix0 + KW > W ? W - ix0 : KW;
        if (kw1 <= kw0) continue;
        int n = (kw1 - kw0) * C;
        for (int kh = 0; kh < KH; kh++) {
          int iy = oy * sh - pt + kh;
          if (iy < 0 || iy >= H) continue;
          const float *src = row + (kh * KW + kw0) * C;
          float *dst = img + ((long)iy * W + ix0 + kw0) * C;
          int i = 0;
          for (; i + 4 <= n; i += 4)
            wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i), wasm_v128_load(src + i)));
          for (; i < n; i++) dst[i] += src[i];
        }
      }
    }
  }
}

/* ---- im2col, transposed: the gather half of a convolution's filter gradient ---------------
 *
 *   colsT[(kh, kw, c), (b, oy, ox)] = x[b, oy*sh - pt + kh, ox*sw - pl + kw, c]   (0 outside x)
 *
 * so that dW[(kh, kw, c), co] = colsT dy, one GEMM with the output pixels as inner dimension.
 * Rows are written contiguously; x is read with a stride of sw*C. */

EXPORT(im2col_t)
void im2col_t(const float *x, float *colsT, int B, int H, int W, int C, int OH, int OW, int KH,
              int KW, int sh, int sw, int pt, int pl) {
  long N = (long)B * OH * OW;
  for (int kh = 0; kh < KH; kh++) {
    for (int kw = 0; kw < KW; kw++) {
      for (int c = 0; c < C; c++) {
        float *out = colsT + ((long)(kh * KW + kw) * C + c) * N;
        /* output columns whose input column ox*sw - pl + kw is inside the image */
        int lo = 0, hi = OW;
        while (lo < OW && lo * sw - pl + kw < 0) lo++;
        while (hi > lo && (hi - 1) * sw - pl + kw >= W) hi--;
        for (int b = 0; b < B; b++) {
          for (int oy = 0; oy < OH; oy++, out += OW) {
            int iy = oy * sh - pt + kh;
            if (iy < 0 || iy >= H) {
              for (int ox = 0; ox < OW; ox++) out[ox] = 0.0f;
              continue;
            }
            const float *src = x + (((long)b * H + iy) * W + (lo * sw - pl + kw)) * C + c;
            int ox = 0;
            for (; ox < lo; ox++) out[ox] = 0.0f;
            for (; ox < hi; ox++, src += (long)sw * C) out[ox] = *src;
            for (; ox < OW; ox++) out[ox] = 0.0f;
          }
        }
      }
    }
  }
}

/* ---- im2col: the gather half of a convolution's forward pass ------------------------------
 *
 *   cols[(b, oy, ox), (kh, kw, c)] = x[b, oy*sh - pt + kh, ox*sw - pl + kw, c]   (0 outside x)
 *
 * the row-major mirror of col2im_add: for fixed (b, oy, ox, kh) the KW*C values are one
 * contiguous run of x (clipped at the image border), copied four floats at a time. */

EXPORT(im2col)
void im2col(const float *x, float *cols, int B, int H, int W, int C, int OH, int OW, int KH,
            int KW, int sh, int sw, int pt, int pl) {
  int K = KH * KW * C;
  float *row = cols;
  f4 zero = wasm_f32x4_splat(0.0f);
  for (int b = 0; b < B; b++) {
    const float *img = x + (long)b * H * W * C;
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++, row += K) {
        int ix0 = ox * sw - pl;
        int kw0 = ix0 < 0 ? -ix0 : 0;
        int kw1 = ix0 + KW > W ? W - ix0 : KW;
        if (kw1 < kw0) kw1 = kw0;
        for (int kh = 0; kh < KH; kh++) {
          int iy = oy * sh - pt + kh;
          float *dst = row + kh * KW * C;
          int a = kw0 * C, e = kw1 * C, n = KW * C, i = 0;
          if (iy < 0 || iy >= H) a = e = n;
          for (; i + 4 <= a; i += 4) wasm_v128_store(dst + i, zero);
          for (; i < a; i++) dst[i] = 0.0f;
          const float *src = img + ((long)iy * W + ix0) * C;
          for (; i + 4 <= e; i += 4) wasm_v128_store(dst + i, wasm_v128_load(src + i));
          for (; i < e; i++) dst[i] = src[i];
          for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, zero);
          for (; i < n; i++) dst[i] = 0.0f;
        }
      }
    }
  }
}
