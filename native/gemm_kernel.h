/*
 * One register-blocked SGEMM micro-kernel, instantiated once per instruction set by
 * deepprob_native.c (included under `#pragma GCC target(...)` with VW = floats per vector,
 * MR = rows of the tile, SUF(name) = name with the ISA suffix). Written for deepprob.
 *
 * The tile: C[MR x 2*VW] (+)= Ap[MR x kc] * Bp[kc x 2*VW], where Ap is packed k-major
 * (MR values per k; lda = 0) or read in place from MR whole rows of a row-major A with row stride
 * lda (no packing pass over A: for the im2col columns of a convolution with few output channels
 * the packing moved as many bytes as the products), and Bp is packed k-major (2*VW values per k,
 * 64-byte aligned). The products
 * are written as vector multiply-adds; with -ffp-contract=fast (GNU C's default) and an FMA
 * target the compiler emits vfmadd231ps. The epilogue adds the bias of each column and applies
 * the activation (0 linear, 1 relu) after the last k block. C has row stride ldc and column stride
 * csc (csc != 1 and per-row biases, used for the transposed formulation C^T = B^T A^T, go through
 * the scalar write-back).
 */
typedef float SUF(vf) __attribute__((vector_size(VW * 4)));
typedef int SUF(vi) __attribute__((vector_size(VW * 4)));

static inline SUF(vf) SUF(loadu)(const float *p) {
  SUF(vf) v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void SUF(storeu)(float *p, SUF(vf) v) { memcpy(p, &v, sizeof v); }

/* max(v, 0) with NaN kept NaN (as tf.relu and a plain loop): zero only where v <= 0 */
static inline SUF(vf) SUF(relu)(SUF(vf) v) {
  SUF(vf) zero = {0};
  SUF(vi) drop = v <= zero;
  return (SUF(vf))((SUF(vi))v & ~drop);
}

static void SUF(kernel)(int kc, const float *restrict ap, long lda, const float *restrict bp,
                        float *restrict c, long ldc, long csc, int mr, int nr, int first,
                        const float *bias, int bias_rows, int act) {
  SUF(vf) acc[MR][2];
  for (int i = 0; i < MR; i++) {
    acc[i][0] = (SUF(vf)){0};
    acc[i][1] = (SUF(vf)){0};
  }
  if (lda == 0) {
    /* packed A: MR values per k */
    for (int k = 0; k < kc; k++) {
      const SUF(vf) b0 = *(const SUF(vf) *)(bp);
      const SUF(vf) b1 = *(const SUF(vf) *)(bp + VW);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        acc[i][0] += b0 * ap[i];
        acc[i][1] += b1 * ap[i];
      }
      ap += MR;
      bp += 2 * VW;
    }
  } else {
    /* A in place, row-major with row stride lda (MR whole rows): one stream per row */
    const float *ar[MR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) ar[i] = ap + i * lda;
    for (int k = 0; k < kc; k++) {
      const SUF(vf) b0 = *(const SUF(vf) *)(bp);
      const SUF(vf) b1 = *(const SUF(vf) *)(bp + VW);
#pragma GCC unroll 16
      for (int i = 0; i < MR; i++) {
        acc[i][0] += b0 * ar[i][k];
        acc[i][1] += b1 * ar[i][k];
      }
      bp += 2 * VW;
    }
  }
  if (mr == MR && nr == 2 * VW && csc == 1 && !bias_rows) {
    SUF(vf) bias0 = {0}, bias1 = {0};
    if (bias != NULL) {
      bias0 = SUF(loadu)(bias);
      bias1 = SUF(loadu)(bias + VW);
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      float *ci = c + i * ldc;
      SUF(vf) c0 = acc[i][0], c1 = acc[i][1];
      if (!first) {
        c0 += SUF(loadu)(ci);
        c1 += SUF(loadu)(ci + VW);
      }
      if (bias != NULL) {
        c0 += bias0;
        c1 += bias1;
      }
      if (act == 1) {
        c0 = SUF(relu)(c0);
        c1 = SUF(relu)(c1);
      }
      SUF(storeu)(ci, c0);
      SUF(storeu)(ci + VW, c1);
    }
    return;
  }
  float t[MR][2 * VW];
  for (int i = 0; i < MR; i++) {
    SUF(storeu)(t[i], acc[i][0]);
    SUF(storeu)(t[i] + VW, acc[i][1]);
  }
  for (int i = 0; i < mr; i++) {
    float *ci = c + i * ldc;
    for (int j = 0; j < nr; j++) {
      float *cij = ci + j * csc;
      float v = t[i][j] + (first ? 0.0f : *cij);
      if (bias != NULL) v += bias_rows ? bias[i] : bias[j];
      if (act == 1 && v <= 0.0f) v = 0.0f; /* NaN stays NaN */
      *cij = v;
    }
  }
}
