/*
 * Direct convolution blocks for layers with few input channels (LeNet's grayscale and 6-channel
 * layers, RGB first layers), instantiated once per instruction set by deepprob_native.c right
 * after gemm_kernel.h (same VW and SUF(name), and that file's vector type and helpers). Written for
 * deepprob.
 *
 * With few input channels im2col repeats every input value FH*FW times for only C*CO products per
 * tap, so these blocks vectorise over output pixels instead: one image is first packed into
 * zero-padded planes (`xs`, one plane per input channel, or per channel and filter column when the
 * horizontal stride or dilation is not 1) so that the VW inputs of VW neighbouring output pixels
 * at one tap are one contiguous vector load. Then
 *   forward:          y[oy, ox..ox+VW, o] = sum_{c,fy,fx} xs[c, fx][oy*SH + fy*DH, ox + fx*fxc] w[fy, fx, c, o]
 *                     (one vector load, then OB multiply-adds with broadcast weights);
 *   filter gradient:  dw[fy, fx, c, o] += sum_{oy,ox} xs[c, fx][oy*SH + fy*DH, ox + fx*fxc] dyp[o, oy, ox]
 *                     (T taps x 4 output channels of vector accumulators, kept in memory across
 *                     images and reduced across lanes once at the end),
 * where fxc is 1 (unit horizontal stride and dilation: the taps are shifts of one plane) or 0 (a
 * plane per filter column, already shifted).
 */

/* Forward: VW output pixels (ox0..ox0+VW of row oy) x OB output channels, plus bias[o] (bias
 * padded to OB, or NULL) and the activation (0 linear, 1 relu); result in out[OB][VW]. */
static inline __attribute__((always_inline)) void SUF(direct_fwd_block)(
    const int OB, const float *restrict xs, long cstride, long fxstride, long rowstride, int C,
    int FH, int FW, long rowoff, long dhrow, const float *restrict wp, long COp,
    const float *bias, int act, float *out) {
  SUF(vf) acc[16];
#pragma GCC unroll 16
  for (int o = 0; o < OB; o++) acc[o] = (SUF(vf)){0};
  for (int c = 0; c < C; c++) {
    const float *xc = xs + c * cstride + rowoff;
    for (int fy = 0; fy < FH; fy++) {
      const float *xr = xc + fy * dhrow * rowstride;
      const float *wr = wp + ((long)fy * FW * C + c) * COp;
      for (int fx = 0; fx < FW; fx++) {
        const SUF(vf) v = SUF(loadu)(xr + fx * fxstride);
        const float *wt = wr + (long)fx * C * COp;
#pragma GCC unroll 16
        for (int o = 0; o < OB; o++) acc[o] += v * wt[o];
      }
    }
  }
#pragma GCC unroll 16
  for (int o = 0; o < OB; o++) {
    SUF(vf) v = acc[o];
    if (bias != NULL) v += bias[o];
    if (act == 1) v = SUF(relu)(v);
    SUF(storeu)(out + o * VW, v);
  }
}

/* Filter gradient: T filter columns (fx0..fx0+T) x OB = 4 output channels, summed over one
 * image's output pixels into the vector accumulators va[T][4][VW] (kept across images; reduced
 * across lanes once at the end). */
static inline __attribute__((always_inline)) void SUF(direct_dw_block)(
    const int T, const float *restrict xc, long fxstride, long rowstride, int OH, long OWr,
    long shrow, const float *restrict dyp, long dyplane, float *restrict va) {
  SUF(vf) acc[DIRECT_DW_T][4];
#pragma GCC unroll 8
  for (int t = 0; t < T; t++)
#pragma GCC unroll 4
    for (int o = 0; o < 4; o++) acc[t][o] = *(const SUF(vf) *)(va + (t * 4 + o) * VW);
  for (int oy = 0; oy < OH; oy++) {
    const float *xr = xc + oy * shrow * rowstride;
    const float *dr = dyp + (long)oy * OWr;
    for (long ox = 0; ox < OWr; ox += VW) {
      SUF(vf) d[4];
#pragma GCC unroll 4
      for (int o = 0; o < 4; o++) d[o] = *(const SUF(vf) *)(dr + o * dyplane + ox);
#pragma GCC unroll 8
      for (int t = 0; t < T; t++) {
        const SUF(vf) v = SUF(loadu)(xr + t * fxstride + ox);
#pragma GCC unroll 4
        for (int o = 0; o < 4; o++) acc[t][o] += v * d[o];
      }
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; t++)
#pragma GCC unroll 4
    for (int o = 0; o < 4; o++) *(SUF(vf) *)(va + (t * 4 + o) * VW) = acc[t][o];
}

/* The forward pass over output rows [oy0, oy1) of one packed image (see direct_geom_t). */
static void SUF(direct_fwd_rows)(const direct_geom_t *g, const float *xs, const float *wp,
                                 float *y, const float *bias, int act, int oy0, int oy1) {
  const conv_t *s = g->s;
  float out[16 * VW];
  for (int oy = oy0; oy < oy1; oy++) {
    for (int ox0 = 0; ox0 < s->OW; ox0 += VW) {
      const int npix = s->OW - ox0 < VW ? s->OW - ox0 : VW;
      for (int ob = 0; ob < s->CO; ob += DIRECT_MAX_OB) {
        const int left = (int)g->COp - ob;
        const int OB = left < DIRECT_MAX_OB ? left : DIRECT_MAX_OB;
        const long rowoff = (long)oy * s->SH * g->rowstride + ox0;
        const float *w = wp + ob;
        const float *bo = bias == NULL ? NULL : bias + ob;
        switch (OB) {
          case 4:
            SUF(direct_fwd_block)(4, xs, g->cstride, g->fxstride, g->rowstride, s->C, s->FH,
                                  s->FW, rowoff, s->DH, w, g->COp, bo, act, out);
            break;
          case 8:
            SUF(direct_fwd_block)(8, xs, g->cstride, g->fxstride, g->rowstride, s->C, s->FH,
                                  s->FW, rowoff, s->DH, w, g->COp, bo, act, out);
            break;
          case 12:
            SUF(direct_fwd_block)(12, xs, g->cstride, g->fxstride, g->rowstride, s->C, s->FH,
                                  s->FW, rowoff, s->DH, w, g->COp, bo, act, out);
            break;
          default:
            SUF(direct_fwd_block)(16, xs, g->cstride, g->fxstride, g->rowstride, s->C, s->FH,
                                  s->FW, rowoff, s->DH, w, g->COp, bo, act, out);
            break;
        }
        const int nco = s->CO - ob < OB ? s->CO - ob : OB;
        float *yp = y + ((long)oy * s->OW + ox0) * s->CO + ob;
        for (int i = 0; i < npix; i++) {
          float *yi = yp + (long)i * s->CO;
          for (int o = 0; o < nco; o++) yi[o] = out[o * VW + i];
        }
      }
    }
  }
}

/* The filter gradient of one packed image, added to the vector accumulators vacc (layout:
 * direct_dw_reduce in deepprob_native.c). */
static void SUF(direct_dw_image)(const direct_geom_t *g, const float *xs, const float *dyp,
                                 float *vacc) {
  const conv_t *s = g->s;
  const long dyplane = (long)s->OH * g->OWr;
  for (int c = 0; c < s->C; c++) {
    for (int fy = 0; fy < s->FH; fy++) {
      for (int fx0 = 0; fx0 < s->FW; fx0 += DIRECT_DW_T) {
        const float *xc = xs + c * g->cstride + (long)fy * s->DH * g->rowstride + fx0 * g->fxstride;
        const int nt = s->FW - fx0 < DIRECT_DW_T ? s->FW - fx0 : DIRECT_DW_T;
        for (int ob = 0; ob < g->COp; ob += 4) {
          float *va = vacc + ((((long)c * s->FH + fy) * s->FW + fx0) * g->COp + ob * nt) * VW;
          const float *d = dyp + ob * dyplane;
          switch (nt) {
#if DIRECT_DW_T >= 5
            case 5:
              SUF(direct_dw_block)(5, xc, g->fxstride, g->rowstride, s->OH, g->OWr, s->SH, d, dyplane, va);
              break;
            case 4:
              SUF(direct_dw_block)(4, xc, g->fxstride, g->rowstride, s->OH, g->OWr, s->SH, d, dyplane, va);
              break;
            case 3:
              SUF(direct_dw_block)(3, xc, g->fxstride, g->rowstride, s->OH, g->OWr, s->SH, d, dyplane, va);
              break;
#endif
            case 2:
              SUF(direct_dw_block)(2, xc, g->fxstride, g->rowstride, s->OH, g->OWr, s->SH, d, dyplane, va);
              break;
            default:
              SUF(direct_dw_block)(1, xc, g->fxstride, g->rowstride, s->OH, g->OWr, s->SH, d, dyplane, va);
              break;
          }
        }
      }
    }
  }
}
