/*
 * Max pooling (forward and gradient) and column sums for the native path, instantiated once per
 * instruction set by deepprob_native.c (same SUF(name); the loops over channels are left to the
 * compiler's vectoriser under that ISA's target). Written for deepprob.
 *
 * Max pooling, NHWC, window FH x FW, strides SH, SW, dilations DH, DW, padding PT, PL (conv_t):
 *   y[b, i, j, c]  = max over the window's pixels inside the image of x[b, h, w, c];
 *   dx[b, h, w, c] = sum of dy[b, i, j, c] over the windows whose arg max is (h, w), the arg max
 *                    being the first strict maximum in window scan order (rows, then columns),
 *                    as the cpu backend's MaxPoolGrad.
 * Column sums: out[j] = sum_i a[i * cols + j] over rows [r0, r1) (the bias gradients: dy summed over
 * batch and pixels), in float over blocks of 64 rows, then in double.
 */

/* Max pooling forward of image b: y[b] from x[b]; channels in vectors of VW (scalar tail). */
static void SUF(maxpool_image)(const conv_t *s, const float *x, float *y, int b) {
  const int C = s->C;
  const float *xb = x + (long)b * s->H * s->W * C;
  float *yb = y + (long)b * s->OH * s->OW * C;
  const SUF(vf) ninf = SUF(vsplat)(-__builtin_inff());
  for (int oy = 0; oy < s->OH; oy++) {
    for (int ox = 0; ox < s->OW; ox++) {
      float *out = yb + ((long)oy * s->OW + ox) * C;
      int c = 0;
      for (; c + VW <= C; c += VW) {
        SUF(vf) m = ninf;
        for (int fy = 0; fy < s->FH; fy++) {
          const int iy = oy * s->SH + fy * s->DH - s->PT;
          if (iy < 0 || iy >= s->H) continue;
          for (int fx = 0; fx < s->FW; fx++) {
            const int ix = ox * s->SW + fx * s->DW - s->PL;
            if (ix < 0 || ix >= s->W) continue;
            const SUF(vf) v = SUF(loadu)(xb + ((long)iy * s->W + ix) * C + c);
            m = SUF(vselect)(v > m, v, m);
          }
        }
        SUF(storeu)(out + c, m);
      }
      for (; c < C; c++) {
        float m = -__builtin_inff();
        for (int fy = 0; fy < s->FH; fy++) {
          const int iy = oy * s->SH + fy * s->DH - s->PT;
          if (iy < 0 || iy >= s->H) continue;
          for (int fx = 0; fx < s->FW; fx++) {
            const int ix = ox * s->SW + fx * s->DW - s->PL;
            if (ix < 0 || ix >= s->W) continue;
            const float v = xb[((long)iy * s->W + ix) * C + c];
            m = v > m ? v : m;
          }
        }
        out[c] = m;
      }
    }
  }
}

/* Max pooling gradient of image b when the windows tile the image without overlap or padding
 * (stride = window, no dilation): each dx element is written once (dy at the window's first strict
 * maximum, 0 at its other pixels, 0 on the rows and columns no window covers); no zero fill. */
static void SUF(maxpool_grad_tiled)(const conv_t *s, const float *x, const float *dy, float *dx,
                                    int b) {
  const int C = s->C, FH = s->FH, FW = s->FW, W = s->W;
  const long HWC = (long)s->H * W * C;
  const float *xb = x + (long)b * HWC;
  const float *dyb = dy + (long)b * s->OH * s->OW * C;
  float *dxb = dx + (long)b * HWC;
  const SUF(vf) ninf = SUF(vsplat)(-__builtin_inff()), zero = {0};
  const int T = FH * FW; /* <= 64 (checked by the caller) */
  long off[64];
  for (int t = 0; t < T; t++) off[t] = ((long)(t / FW) * W + t % FW) * C;
  for (int oy = 0; oy < s->OH; oy++) {
    for (int ox = 0; ox < s->OW; ox++) {
      const float *g = dyb + ((long)oy * s->OW + ox) * C;
      const long base = ((long)oy * FH * W + (long)ox * FW) * C;
      int c = 0;
      for (; c + VW <= C; c += VW) {
        SUF(vf) m = ninf;
        SUF(vi) at = (SUF(vi)){0} - 1;
        for (int t = 0; t < T; t++) {
          const SUF(vf) v = SUF(loadu)(xb + base + off[t] + c);
          const SUF(vi) up = v > m;
          m = SUF(vselect)(up, v, m);
          at = (up & t) | (~up & at);
        }
        const SUF(vf) gv = SUF(loadu)(g + c);
        for (int t = 0; t < T; t++)
          SUF(storeu)(dxb + base + off[t] + c, SUF(vselect)(at == t, gv, zero));
      }
      for (; c < C; c++) {
        const float *xc = xb + base + c;
        float *dc = dxb + base + c;
        float m = -__builtin_inff();
        int at = -1;
        for (int t = 0; t < T; t++) {
          const float v = xc[off[t]];
          if (v > m) {
            m = v;
            at = t;
          }
        }
        for (int t = 0; t < T; t++) dc[off[t]] = t == at ? g[c] : 0.0f;
      }
    }
    /* columns right of the last window */
    for (int r = 0; r < FH; r++) {
      const long row = ((long)oy * FH + r) * W;
      memset(dxb + (row + (long)s->OW * FW) * C, 0, (size_t)(W - s->OW * FW) * C * sizeof(float));
    }
  }
  /* rows below the last window */
  const long covered = (long)s->OH * FH * W * C;
  memset(dxb + covered, 0, (size_t)(HWC - covered) * sizeof(float));
}

/* Max pooling gradient of image b into dx[b] (zeroed here): per output pixel and vector of
 * channels, the arg max (pixel index) by vector compares, then dy added at each lane's arg max. */
static void SUF(maxpool_grad_image)(const conv_t *s, const float *x, const float *dy, float *dx,
                                    int b) {
  if (s->SH == s->FH && s->SW == s->FW && s->FH * s->FW <= 64 && s->DH == 1 && s->DW == 1 &&
      s->PT == 0 && s->PL == 0 &&
      (long)s->OH * s->FH <= s->H && (long)s->OW * s->FW <= s->W) {
    SUF(maxpool_grad_tiled)(s, x, dy, dx, b);
    return;
  }
  const int C = s->C;
  const long HWC = (long)s->H * s->W * C;
  const float *xb = x + (long)b * HWC;
  const float *dyb = dy + (long)b * s->OH * s->OW * C;
  float *dxb = dx + (long)b * HWC;
  memset(dxb, 0, (size_t)HWC * sizeof(float));
  const SUF(vf) ninf = SUF(vsplat)(-__builtin_inff());
  for (int oy = 0; oy < s->OH; oy++) {
    for (int ox = 0; ox < s->OW; ox++) {
      const float *g = dyb + ((long)oy * s->OW + ox) * C;
      int c = 0;
      for (; c + VW <= C; c += VW) {
        SUF(vf) m = ninf;
        SUF(vi) at = (SUF(vi)){0} - 1;
        for (int fy = 0; fy < s->FH; fy++) {
          const int iy = oy * s->SH + fy * s->DH - s->PT;
          if (iy < 0 || iy >= s->H) continue;
          for (int fx = 0; fx < s->FW; fx++) {
            const int ix = ox * s->SW + fx * s->DW - s->PL;
            if (ix < 0 || ix >= s->W) continue;
            const int p = (iy * s->W + ix) * C + c;
            const SUF(vf) v = SUF(loadu)(xb + p);
            const SUF(vi) up = v > m;
            m = SUF(vselect)(up, v, m);
            at = (up & p) | (~up & at);
          }
        }
        for (int l = 0; l < VW; l++)
          if (at[l] >= 0) dxb[at[l] + l] += g[c + l];
      }
      for (; c < C; c++) {
        float m = -__builtin_inff();
        int at = -1;
        for (int fy = 0; fy < s->FH; fy++) {
          const int iy = oy * s->SH + fy * s->DH - s->PT;
          if (iy < 0 || iy >= s->H) continue;
          for (int fx = 0; fx < s->FW; fx++) {
            const int ix = ox * s->SW + fx * s->DW - s->PL;
            if (ix < 0 || ix >= s->W) continue;
            const int p = (iy * s->W + ix) * C + c;
            if (xb[p] > m) {
              m = xb[p];
              at = p;
            }
          }
        }
        if (at >= 0) dxb[at] += g[c];
      }
    }
  }
}

/* out[0..cols) = column sums of rows [r0, r1) of a (row stride cols), in double. */
static void SUF(colsum)(const float *a, long cols, long r0, long r1, double *out, float *acc) {
  for (long j = 0; j < cols; j++) out[j] = 0.0;
  for (long i0 = r0; i0 < r1; i0 += 64) {
    const long i1 = r1 - i0 < 64 ? r1 : i0 + 64;
    for (long j = 0; j < cols; j++) acc[j] = 0.0f;
    for (long i = i0; i < i1; i++) {
      const float *restrict row = a + i * cols;
      for (long j = 0; j < cols; j++) acc[j] += row[j];
    }
    for (long j = 0; j < cols; j++) out[j] += acc[j];
  }
}
