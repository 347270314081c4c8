/*
 * deepprob's native CPU kernels for Node (N-API, C): a packed, register-blocked SGEMM with an
 * AVX-512 / AVX2+FMA / SSE micro-kernel chosen at run time from the CPU's flags, a small thread
 * pool, a bias + activation epilogue, and the three convolution kernels (forward, gradient of
 * the input, gradient of the filter) as im2col / col2im + GEMM over chunks of images.
 *
 * Every function works in place on memory the caller owns: the tfjs wasm backend's heap is passed
 * as a Float32Array (its ArrayBuffer or SharedArrayBuffer), and tensors as float offsets into it,
 * so nothing is copied across the JavaScript boundary. Written for deepprob.
 *
 * Layouts (tfjs): images NHWC, filters [FH, FW, C, CO], matrices row-major.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

/* One convolution's geometry (NHWC images, filters [FH, FW, C, CO]). */
typedef struct {
  int B, H, W, C, OH, OW, FH, FW, SH, SW, DH, DW, PT, PL, CO;
} conv_t;

/* The packed planes of one image for the direct convolution (conv_direct.h): per input channel
 * `planes` planes of Hp rows x rowstride floats; tap (fy, fx) of output pixel (oy, ox) reads
 * xs[c*cstride + fx*fxstride + (oy*SH + fy*DH)*rowstride + ox]. */
typedef struct {
  const conv_t *s;
  long OWr;       /* OW rounded up to whole vectors */
  long Hp;        /* rows per plane */
  long rowstride; /* floats per packed row */
  long fxstride;  /* 1 (unit horizontal stride and dilation: taps are shifts) or one plane */
  long cstride;   /* floats per input channel */
  long COp;       /* CO rounded up to a multiple of 4 (zero weights / zero gradients beyond) */
  int planes;     /* planes per channel: 1, or FW rounded up to the filter-gradient tap block */
} direct_geom_t;

/* Ops of pointwise.h (the binding's `op`). */
enum {
  PW_SOFTPLUS = 0,
  PW_SOFTPLUS_GRAD = 1,
  PW_REPARAM = 2,
  PW_REPARAM_GRAD = 3,
  PW_KL = 4,
  PW_KL_GRAD_MU = 5,
  PW_KL_GRAD_RHO = 6,
  PW_ADAM = 7,
  PW_OPS = 8
};

/* ------------------------------------------------------------------------------------------ */
/* Micro-kernels, one per instruction set                                                      */

#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#define VW 16
#define MR 8
#define SUF(n) n##_avx512
#include "gemm_kernel.h"
#include "elementwise.h"
#include "pointwise.h"
#include "pool_reduce.h"
#define DIRECT_MAX_OB 16
#define DIRECT_DW_T 5
#include "conv_direct.h"
#undef DIRECT_MAX_OB
#undef DIRECT_DW_T
#undef VW
#undef MR
#undef SUF
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define VW 8
#define MR 6
#define SUF(n) n##_avx2
#include "gemm_kernel.h"
#include "elementwise.h"
#include "pointwise.h"
#include "pool_reduce.h"
#define DIRECT_MAX_OB 12
#define DIRECT_DW_T 2
#include "conv_direct.h"
#undef DIRECT_MAX_OB
#undef DIRECT_DW_T
#undef VW
#undef MR
#undef SUF
#pragma GCC pop_options

#define VW 4
#define MR 6
#define SUF(n) n##_sse
#include "gemm_kernel.h"
#include "elementwise.h"
#include "pointwise.h"
#include "pool_reduce.h"
#define DIRECT_MAX_OB 12
#define DIRECT_DW_T 2
#include "conv_direct.h"
#undef DIRECT_MAX_OB
#undef DIRECT_DW_T
#undef VW
#undef MR
#undef SUF

typedef void (*kernel_fn)(int kc, const float *ap, long lda, const float *bp, float *c, long ldc,
                          long csc,
                          int mr, int nr, int first, const float *bias, int bias_rows, int act);
typedef void (*direct_fwd_fn)(const direct_geom_t *g, const float *xs, const float *wp, float *y,
                              const float *bias, int act, int oy0, int oy1);
typedef void (*direct_dw_fn)(const direct_geom_t *g, const float *xs, const float *dyp,
                             float *dw);
typedef void (*eltwise_fn)(int op, const float *a, const float *b, float *out, long n);
typedef double (*pointwise_fn)(int op, float *const *p, const double *s, long i0, long i1);
typedef void (*maxpool_fn)(const conv_t *s, const float *x, float *y, int b);
typedef void (*maxpool_grad_fn)(const conv_t *s, const float *x, const float *dy, float *dx, int b);
typedef void (*colsum_fn)(const float *a, long cols, long r0, long r1, double *out, float *acc);

static struct {
  kernel_fn kernel;
  int mr, nr;
  const char *isa;
  direct_fwd_fn direct_fwd; /* conv_direct.h, this ISA */
  direct_dw_fn direct_dw;
  int vw, dw_t; /* floats per vector; filter-gradient tap block */
  eltwise_fn eltwise; /* elementwise.h, this ISA */
  pointwise_fn pointwise; /* pointwise.h */
  maxpool_fn maxpool;     /* pool_reduce.h */
  maxpool_grad_fn maxpool_grad;
  colsum_fn colsum;
} K = {kernel_sse, 6, 8, "sse", direct_fwd_rows_sse, direct_dw_image_sse, 4, 2, eltwise_sse,
       pointwise_sse, maxpool_image_sse, maxpool_grad_image_sse, colsum_sse};

#define KC 512
#define MC 96
#define NC 2048

static void choose_isa(const char *force) {
  __builtin_cpu_init();
  int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (force != NULL && strcmp(force, "avx2") == 0) avx512 = 0;
  if (force != NULL && strcmp(force, "sse") == 0) avx512 = avx2 = 0;
  if (avx512) {
    K.kernel = kernel_avx512, K.mr = 8, K.nr = 32, K.isa = "avx512";
    K.direct_fwd = direct_fwd_rows_avx512, K.direct_dw = direct_dw_image_avx512;
    K.vw = 16, K.dw_t = 5, K.eltwise = eltwise_avx512;
    K.pointwise = pointwise_avx512, K.maxpool = maxpool_image_avx512;
    K.maxpool_grad = maxpool_grad_image_avx512, K.colsum = colsum_avx512;
  } else if (avx2) {
    K.kernel = kernel_avx2, K.mr = 6, K.nr = 16, K.isa = "avx2";
    K.direct_fwd = direct_fwd_rows_avx2, K.direct_dw = direct_dw_image_avx2;
    K.vw = 8, K.dw_t = 2, K.eltwise = eltwise_avx2;
    K.pointwise = pointwise_avx2, K.maxpool = maxpool_image_avx2;
    K.maxpool_grad = maxpool_grad_image_avx2, K.colsum = colsum_avx2;
  } else {
    K.kernel = kernel_sse, K.mr = 6, K.nr = 8, K.isa = "sse";
    K.direct_fwd = direct_fwd_rows_sse, K.direct_dw = direct_dw_image_sse;
    K.vw = 4, K.dw_t = 2, K.eltwise = eltwise_sse;
    K.pointwise = pointwise_sse, K.maxpool = maxpool_image_sse;
    K.maxpool_grad = maxpool_grad_image_sse, K.colsum = colsum_sse;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Subnormal floats: the kernels run with flush-to-zero and denormals-are-zero (MXCSR FTZ | DAZ)   */
/* on x86. A subnormal operand costs a microcode assist of ~100 cycles per vector FMA: gradients   */
/* of a freshly initialised Bayesian AlexNet carry thousands of them (|dy| < 2^-126), which made   */
/* one 3x3x384x256 filter gradient 10-20x slower than on normal numbers. Values below 2^-126 count */
/* as 0 in these kernels (as with PyTorch's torch.set_flush_denormal(True)). The calling (JS)      */
/* thread gets its MXCSR back when the binding returns, so JavaScript arithmetic is unchanged.     */

static unsigned ftz_enter(void) {
#if defined(__x86_64__) || defined(__i386__)
  const unsigned prev = _mm_getcsr();
  _mm_setcsr(prev | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
  return prev;
#else
  return 0;
#endif
}

static void ftz_leave(unsigned prev) {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(prev);
#else
  (void)prev;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* Thread pool: workers sleep on a condition variable; the calling thread is worker 0.        */

#define MAX_THREADS 16
typedef void (*task_fn)(void *ctx, int tid, int nth);

static struct {
  int n;
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  unsigned gen;
  int pending;
  task_fn fn;
  void *ctx;
} P = {1, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0,
       NULL, NULL};

/* Spin iterations (a pause each, ~50 ns) a thread polls before sleeping: kernel calls come back
 * to back within a training step (tens of microseconds of JS between them), and a futex wake-up
 * costs about as much as a small kernel. */
#define SPIN 1000

static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

static void *worker(void *arg) {
  int tid = (int)(intptr_t)arg;
  unsigned seen = 0;
  ftz_enter(); /* the pool's threads run only these kernels: subnormals flushed for good */
  for (;;) {
    for (int i = 0; i < SPIN && __atomic_load_n(&P.gen, __ATOMIC_ACQUIRE) == seen; i++)
      spin_pause();
    pthread_mutex_lock(&P.mu);
    while (__atomic_load_n(&P.gen, __ATOMIC_ACQUIRE) == seen) pthread_cond_wait(&P.go, &P.mu);
    seen = P.gen;
    task_fn fn = P.fn;
    void *ctx = P.ctx;
    int n = P.n;
    pthread_mutex_unlock(&P.mu);
    fn(ctx, tid, n);
    pthread_mutex_lock(&P.mu);
    if (__atomic_sub_fetch(&P.pending, 1, __ATOMIC_ACQ_REL) == 0) pthread_cond_signal(&P.done);
    pthread_mutex_unlock(&P.mu);
  }
  return NULL;
}

static void start_pool(int n) {
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  int started = 1;
  for (int t = 1; t < n; t++) {
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, worker, (void *)(intptr_t)t) == 0) started++;
    pthread_attr_destroy(&at);
    if (started != t + 1) break;
  }
  P.n = started;
}

/** Run fn(ctx, tid, nth) on every thread of the pool, and wait. */
static pthread_mutex_t caller = PTHREAD_MUTEX_INITIALIZER;

static void run_parallel(task_fn fn, void *ctx) {
  if (P.n == 1) {
    fn(ctx, 0, 1);
    return;
  }
  /* One caller at a time (Node worker threads may share the loaded addon). */
  pthread_mutex_lock(&caller);
  pthread_mutex_lock(&P.mu);
  P.fn = fn;
  P.ctx = ctx;
  __atomic_store_n(&P.pending, P.n - 1, __ATOMIC_RELEASE);
  __atomic_add_fetch(&P.gen, 1, __ATOMIC_ACQ_REL);
  pthread_cond_broadcast(&P.go);
  pthread_mutex_unlock(&P.mu);
  fn(ctx, 0, P.n);
  for (int i = 0; i < SPIN && __atomic_load_n(&P.pending, __ATOMIC_ACQUIRE) > 0; i++) spin_pause();
  pthread_mutex_lock(&P.mu);
  while (__atomic_load_n(&P.pending, __ATOMIC_ACQUIRE) > 0) pthread_cond_wait(&P.done, &P.mu);
  pthread_mutex_unlock(&P.mu);
  pthread_mutex_unlock(&caller);
}

/* ------------------------------------------------------------------------------------------ */
/* Packed GEMM: C[M x N] (+)= A[M x K] B[K x N] with element strides (transposes are strides). */

typedef struct {
  const float *a;
  long rsa, csa;
  const float *b;
  long rsb, csb;
  float *c;
  long ldc, csc; /* C[i][j] = c[i*ldc + j*csc] */
  int m, n, k;
  int accumulate;
  const float *bias; /* per column (per row with bias_rows), or NULL */
  int act;           /* 0 linear, 1 relu */
  int bias_rows;
} gemm_t;

static _Thread_local float *tl_a = NULL, *tl_b = NULL;

/* Whether the micro-kernel reads a row-major A in place instead of packing it (settable for A/B
 * timing and tests: setAInPlace). */
static int a_in_place = 1;

static float *thread_buffer(float **slot, size_t floats) {
  if (*slot == NULL) *slot = aligned_alloc(64, floats * sizeof(float));
  return *slot;
}

static void pack_a(const gemm_t *g, int ic, int mc, int pc, int kc, float *dst) {
  const int mr = K.mr;
  for (int ir = 0; ir < mc; ir += mr) {
    int rows = mc - ir < mr ? mc - ir : mr;
    float *d = dst + (long)ir * kc;
    const float *src = g->a + (long)(ic + ir) * g->rsa + (long)pc * g->csa;
    if (g->rsa == 1 && rows == mr) {
      /* constant-size copies (inlined) for the two tile heights */
      if (mr == 8) {
        for (int k = 0; k < kc; k++) memcpy(d + (long)k * 8, src + (long)k * g->csa, 8 * 4);
      } else if (mr == 6) {
        for (int k = 0; k < kc; k++) memcpy(d + (long)k * 6, src + (long)k * g->csa, 6 * 4);
      } else {
        for (int k = 0; k < kc; k++) memcpy(d + (long)k * mr, src + (long)k * g->csa, mr * 4);
      }
      continue;
    }
    for (int i = 0; i < mr; i++) {
      if (i >= rows) {
        for (int k = 0; k < kc; k++) d[(long)k * mr + i] = 0.0f;
        continue;
      }
      const float *row = src + (long)i * g->rsa;
      if (g->csa == 1) {
        for (int k = 0; k < kc; k++) d[(long)k * mr + i] = row[k];
      } else {
        for (int k = 0; k < kc; k++) d[(long)k * mr + i] = row[(long)k * g->csa];
      }
    }
  }
}

static void pack_b(const gemm_t *g, int pc, int kc, int jc, int nc, float *dst) {
  const int nr = K.nr;
  for (int jr = 0; jr < nc; jr += nr) {
    int cols = nc - jr < nr ? nc - jr : nr;
    float *d = dst + (long)jr * kc;
    const float *src = g->b + (long)pc * g->rsb + (long)(jc + jr) * g->csb;
    if (g->csb == 1) {
      for (int k = 0; k < kc; k++) {
        const float *row = src + (long)k * g->rsb;
        float *o = d + (long)k * nr;
        memcpy(o, row, cols * 4);
        for (int j = cols; j < nr; j++) o[j] = 0.0f;
      }
    } else if (g->rsb == 1) {
      /* B's columns contiguous (a transposed weight): k outer, so that the panel is written in
       * whole lines while the nr source rows stream through L1 */
      const float *rows[64];
      for (int j = 0; j < cols; j++) rows[j] = src + (long)j * g->csb;
      for (int k = 0; k < kc; k++) {
        float *o = d + (long)k * nr;
        for (int j = 0; j < cols; j++) o[j] = rows[j][k];
        for (int j = cols; j < nr; j++) o[j] = 0.0f;
      }
    } else {
      for (int j = 0; j < nr; j++) {
        if (j >= cols) {
          for (int k = 0; k < kc; k++) d[(long)k * nr + j] = 0.0f;
          continue;
        }
        const float *col = src + (long)j * g->csb;
        for (int k = 0; k < kc; k++) d[(long)k * nr + j] = col[(long)k * g->rsb];
      }
    }
  }
}

/** The part of C with rows [m0, m1) and columns [n0, n1), on one thread. */
static void gemm_block(const gemm_t *g, int m0, int m1, int n0, int n1) {
  const int mr = K.mr, nr = K.nr;
  if (m0 >= m1 || n0 >= n1) return;
  if (g->k == 0) {
    for (int i = m0; i < m1; i++) {
      for (int j = n0; j < n1; j++) {
        float *cij = g->c + (long)i * g->ldc + (long)j * g->csc;
        float v = g->accumulate ? *cij : 0.0f;
        if (g->bias != NULL) v += g->bias_rows ? g->bias[i] : g->bias[j];
        if (g->act == 1 && v <= 0.0f) v = 0.0f; /* NaN stays NaN */
        *cij = v;
      }
    }
    return;
  }
  /* A row-major (unit column stride): the kernel reads its rows in place */
  const int in_place = g->csa == 1 && g->rsa >= 1 && a_in_place;
  float *ap = thread_buffer(&tl_a, (size_t)(MC + 16) * KC);
  float *bp = thread_buffer(&tl_b, (size_t)(NC + 32) * KC);
  if (ap == NULL || bp == NULL) abort();
  for (int jc = n0; jc < n1; jc += NC) {
    int nc = n1 - jc < NC ? n1 - jc : NC;
    for (int pc = 0; pc < g->k; pc += KC) {
      int kc = g->k - pc < KC ? g->k - pc : KC;
      int first = pc == 0 && !g->accumulate;
      int last = pc + kc >= g->k;
      pack_b(g, pc, kc, jc, nc, bp);
      for (int ic = m0; ic < m1; ic += MC) {
        int mc = m1 - ic < MC ? m1 - ic : MC;
        /* A read in place (row-major, whole tiles; the ragged last tile packed), or packed */
        const int whole = in_place ? mc / mr * mr : 0;
        if (whole < mc) pack_a(g, ic + whole, mc - whole, pc, kc, ap + (long)whole * kc);
        for (int jr = 0; jr < nc; jr += nr) {
          int cols = nc - jr < nr ? nc - jr : nr;
          for (int ir = 0; ir < mc; ir += mr) {
            int rows = mc - ir < mr ? mc - ir : mr;
            const float *bias = !last || g->bias == NULL ? NULL
                                : g->bias_rows         ? g->bias + ic + ir
                                                       : g->bias + jc + jr;
            const int direct = ir < whole;
            K.kernel(kc, direct ? g->a + (long)(ic + ir) * g->rsa + pc : ap + (long)ir * kc,
                     direct ? g->rsa : 0, bp + (long)jr * kc,
                     g->c + (long)(ic + ir) * g->ldc + (long)(jc + jr) * g->csc, g->ldc, g->csc,
                     rows, cols, first, bias, g->bias_rows, last ? g->act : 0);
          }
        }
      }
    }
  }
}

static void gemm_task(void *ctx, int tid, int nth) {
  const gemm_t *g = ctx;
  /* Split the longer side (in whole tiles) so that each thread packs its own operands. */
  if ((long)g->m * K.nr >= (long)g->n * K.mr) {
    int tiles = (g->m + K.mr - 1) / K.mr;
    int t0 = (int)((long)tiles * tid / nth), t1 = (int)((long)tiles * (tid + 1) / nth);
    int m0 = t0 * K.mr, m1 = t1 * K.mr < g->m ? t1 * K.mr : g->m;
    gemm_block(g, m0, m1, 0, g->n);
  } else {
    int tiles = (g->n + K.nr - 1) / K.nr;
    int t0 = (int)((long)tiles * tid / nth), t1 = (int)((long)tiles * (tid + 1) / nth);
    int n0 = t0 * K.nr, n1 = t1 * K.nr < g->n ? t1 * K.nr : g->n;
    gemm_block(g, 0, g->m, n0, n1);
  }
}

/* g itself, or in t its transposed form C^T = B^T A^T when C is narrow. */
static const gemm_t *gemm_oriented(const gemm_t *g, gemm_t *t) {
  if (g->n < K.nr / 2 && g->m >= 4 * K.nr && g->csc == 1) {
    /* A narrow C (few output channels) would fill a fraction of each vector: compute
     * C^T = B^T A^T instead, whose rows are C's columns (strides swapped, bias per row). */
    *t = (gemm_t){g->b, g->csb, g->rsb, g->a, g->csa, g->rsa, g->c, 1, g->ldc, g->n, g->m, g->k,
                  g->accumulate, g->bias, g->act, 1};
    return t;
  }
  return g;
}

/* The whole product on the calling thread. */
static void gemm_serial(const gemm_t *g) {
  gemm_t t;
  const gemm_t *o = gemm_oriented(g, &t);
  gemm_block(o, 0, o->m, 0, o->n);
}

static void gemm(gemm_t *g) {
  gemm_t t;
  const gemm_t *o = gemm_oriented(g, &t);
  double flops = 2.0 * o->m * o->n * o->k;
  if (flops < 2e6 || P.n == 1) {
    gemm_block(o, 0, o->m, 0, o->n);
  } else {
    run_parallel(gemm_task, (void *)o);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Convolutions: im2col / col2im over chunks of whole images.                                  */

/* Cap on the im2col buffer (floats): 2^22 = 16 MiB; settable for tests (setChunkFloats). */
static long chunk_floats = 1L << 22;

typedef struct {
  const conv_t *s;
  const float *x;
  float *col;
  int b0, nb;
} im2col_t;

/* One row of the im2col matrix per output pixel: taps (fy, fx) x channels c. */
static void im2col_rows(const conv_t *s, const float *x, float *col, int b0, long r0, long r1) {
  const long kk = (long)s->FH * s->FW * s->C;
  const long pix = (long)s->OH * s->OW;
  for (long r = r0; r < r1; r++) {
    int b = b0 + (int)(r / pix);
    int rem = (int)(r % pix);
    int oy = rem / s->OW, ox = rem % s->OW;
    float *dst = col + r * kk;
    for (int fy = 0; fy < s->FH; fy++) {
      int iy = oy * s->SH + fy * s->DH - s->PT;
      float *drow = dst + (long)fy * s->FW * s->C;
      if (iy < 0 || iy >= s->H) {
        memset(drow, 0, (size_t)s->FW * s->C * 4);
        continue;
      }
      const float *xrow = x + ((long)b * s->H + iy) * s->W * s->C;
      int ix0 = ox * s->SW - s->PL;
      if (s->DW == 1) {
        /* taps fx in [lo, hi) are inside the image and contiguous in x: one copy */
        int lo = ix0 < 0 ? -ix0 : 0;
        int hi = s->W - ix0 < s->FW ? s->W - ix0 : s->FW;
        if (hi < lo) hi = lo;
        if (lo > 0) memset(drow, 0, (size_t)lo * s->C * 4);
        if (hi > lo) memcpy(drow + (long)lo * s->C, xrow + (long)(ix0 + lo) * s->C, (size_t)(hi - lo) * s->C * 4);
        if (hi < s->FW) memset(drow + (long)hi * s->C, 0, (size_t)(s->FW - hi) * s->C * 4);
        continue;
      }
      for (int fx = 0; fx < s->FW; fx++) {
        int ix = ix0 + fx * s->DW;
        float *d = drow + (long)fx * s->C;
        if (ix < 0 || ix >= s->W) {
          for (int c = 0; c < s->C; c++) d[c] = 0.0f;
        } else {
          const float *v = xrow + (long)ix * s->C;
          for (int c = 0; c < s->C; c++) d[c] = v[c];
        }
      }
    }
  }
}

static void im2col_task(void *ctx, int tid, int nth) {
  const im2col_t *t = ctx;
  long rows = (long)t->nb * t->s->OH * t->s->OW;
  im2col_rows(t->s, t->x, t->col, t->b0, rows * tid / nth, rows * (tid + 1) / nth);
}

static void im2col(const conv_t *s, const float *x, float *col, int b0, int nb) {
  im2col_t t = {s, x, col, b0, nb};
  if ((long)nb * s->OH * s->OW * s->FH * s->FW * s->C < 65536 || P.n == 1) {
    im2col_task(&t, 0, 1);
  } else {
    run_parallel(im2col_task, &t);
  }
}

/* dx[b] += col2im(col rows of image b), one image per task (images do not overlap). */
static void col2im_image(const conv_t *s, const float *col, float *dx, int b) {
  const long kk = (long)s->FH * s->FW * s->C;
  for (int oy = 0; oy < s->OH; oy++) {
    for (int ox = 0; ox < s->OW; ox++) {
      const float *src = col + ((long)oy * s->OW + ox) * kk;
      for (int fy = 0; fy < s->FH; fy++) {
        int iy = oy * s->SH + fy * s->DH - s->PT;
        if (iy < 0 || iy >= s->H) continue;
        float *drow = dx + ((long)b * s->H + iy) * s->W * s->C;
        const float *vrow = src + (long)fy * s->FW * s->C;
        int ix0 = ox * s->SW - s->PL;
        if (s->DW == 1) {
          int lo = ix0 < 0 ? -ix0 : 0;
          int hi = s->W - ix0 < s->FW ? s->W - ix0 : s->FW;
          float *d = drow + (long)(ix0 + lo) * s->C;
          const float *v = vrow + (long)lo * s->C;
          for (long i = 0; i < (long)(hi - lo) * s->C; i++) d[i] += v[i];
          continue;
        }
        for (int fx = 0; fx < s->FW; fx++) {
          int ix = ix0 + fx * s->DW;
          if (ix < 0 || ix >= s->W) continue;
          const float *v = vrow + (long)fx * s->C;
          float *d = drow + (long)ix * s->C;
          for (int c = 0; c < s->C; c++) d[c] += v[c];
        }
      }
    }
  }
}

typedef struct {
  const conv_t *s;
  const float *col;
  float *dx;
  int b0, nb;
} col2im_t;

static void col2im_task(void *ctx, int tid, int nth) {
  const col2im_t *t = ctx;
  const long per = (long)t->s->OH * t->s->OW * t->s->FH * t->s->FW * t->s->C;
  for (int i = t->nb * tid / nth; i < t->nb * (tid + 1) / nth; i++) {
    col2im_image(t->s, t->col + i * per, t->dx, t->b0 + i);
  }
}

static int images_per_chunk(const conv_t *s) {
  long per = (long)s->OH * s->OW * s->FH * s->FW * s->C;
  long nb = per > 0 ? chunk_floats / per : s->B;
  if (nb < 1) nb = 1;
  if (nb > s->B) nb = s->B;
  return (int)nb;
}

static int is_pointwise(const conv_t *s) {
  return s->FH == 1 && s->FW == 1 && s->SH == 1 && s->SW == 1 && s->PT == 0 && s->PL == 0 &&
         s->OH == s->H && s->OW == s->W;
}

/* ------------------------------------------------------------------------------------------ */
/* Direct convolutions for few input channels (conv_direct.h): packing and threading.          */

/* Input channels up to which the forward convolution and the filter gradient run direct (more
 * go through im2col + GEMM), for unit horizontal stride and dilation (taps are shifts of one
 * packed plane) and for the others (a plane per filter column: FW times the packing; im2col +
 * GEMM was faster on AlexNet's 11x11 stride-4 layer); settable (setDirectMaxChannels). */
static int direct_max_channels = 7, direct_max_channels_strided = 0;

static int use_direct(const conv_t *s) {
  return s->C <= (s->SW == 1 && s->DW == 1 ? direct_max_channels : direct_max_channels_strided);
}

static direct_geom_t direct_geom(const conv_t *s) {
  direct_geom_t g;
  const long vw = K.vw, t = K.dw_t;
  g.s = s;
  g.OWr = (s->OW + vw - 1) / vw * vw;
  g.Hp = (long)(s->OH - 1) * s->SH + (long)(s->FH - 1) * s->DH + 1;
  if (s->SW == 1 && s->DW == 1) {
    /* taps are shifts of one plane; room for the gradient's tap block past the last tap */
    g.planes = 1;
    g.rowstride = g.OWr + s->FW - 1 + t - 1;
    g.fxstride = 1;
  } else {
    g.planes = (int)((s->FW + t - 1) / t * t);
    g.rowstride = g.OWr;
    g.fxstride = g.Hp * g.OWr;
  }
  g.cstride = g.planes * g.Hp * g.rowstride;
  g.COp = (s->CO + 3) / 4 * 4;
  return g;
}

/* Pack image b of x into zero-padded planes (layout in direct_geom_t). */
static void direct_pack_x(const direct_geom_t *g, const float *x, int b, float *xs) {
  const conv_t *s = g->s;
  const float *xb = x + (long)b * s->H * s->W * s->C;
  for (int c = 0; c < s->C; c++) {
    for (int p = 0; p < g->planes; p++) {
      /* column col of plane p reads input column col*step + p*DW - PL */
      const long step = g->planes == 1 ? 1 : s->SW;
      const long off = (g->planes == 1 ? 0 : (long)p * s->DW) - s->PL;
      const int live = g->planes == 1 || p < s->FW;
      for (long row = 0; row < g->Hp; row++) {
        float *d = xs + c * g->cstride + p * g->Hp * g->rowstride + row * g->rowstride;
        const long iy = row - s->PT;
        if (!live || iy < 0 || iy >= s->H) {
          memset(d, 0, (size_t)g->rowstride * sizeof(float));
          continue;
        }
        const float *xr = xb + iy * s->W * s->C + c;
        for (long col = 0; col < g->rowstride; col++) {
          const long ix = col * step + off;
          d[col] = ix >= 0 && ix < s->W ? xr[ix * s->C] : 0.0f;
        }
      }
    }
  }
}

/* Pack image b of dy into planes dyp[o][oy][ox] (o < COp, ox < OWr; zero beyond CO and OW). */
static void direct_pack_dy(const direct_geom_t *g, const float *dy, int b, float *dyp) {
  const conv_t *s = g->s;
  const float *db = dy + (long)b * s->OH * s->OW * s->CO;
  for (long o = 0; o < g->COp; o++) {
    float *d = dyp + o * s->OH * g->OWr;
    if (o >= s->CO) {
      memset(d, 0, (size_t)s->OH * g->OWr * sizeof(float));
      continue;
    }
    for (int oy = 0; oy < s->OH; oy++) {
      float *dr = d + (long)oy * g->OWr;
      const float *sr = db + (long)oy * s->OW * s->CO + o;
      for (int ox = 0; ox < s->OW; ox++) dr[ox] = sr[(long)ox * s->CO];
      for (long ox = s->OW; ox < g->OWr; ox++) dr[ox] = 0.0f;
    }
  }
}

static _Thread_local float *tl_xs = NULL, *tl_dyp = NULL;
static _Thread_local size_t tl_xs_n = 0, tl_dyp_n = 0;

/* A 64-byte aligned per-thread buffer of at least `floats` floats (kept for later calls). */
static float *grow(float **slot, size_t *have, size_t floats) {
  if (*have < floats) {
    free(*slot);
    *slot = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
    *have = *slot == NULL ? 0 : floats;
  }
  return *slot;
}

typedef struct {
  const direct_geom_t *g;
  const float *x, *w, *dy, *bias;
  float *y;     /* forward output */
  float *parts; /* filter gradient: one [FH*FW*C*CO] partial sum per thread */
  int act;
  int failed;
} direct_t;

static void direct_fwd_task(void *ctx, int tid, int nth) {
  direct_t *t = ctx;
  const direct_geom_t *g = t->g;
  const conv_t *s = g->s;
  float *xs = grow(&tl_xs, &tl_xs_n, (size_t)(s->C * g->cstride));
  if (xs == NULL) {
    t->failed = 1;
    return;
  }
  const long ysz = (long)s->OH * s->OW * s->CO;
  if (s->B >= nth) {
    /* whole images per thread */
    for (int b = (int)((long)s->B * tid / nth); b < (int)((long)s->B * (tid + 1) / nth); b++) {
      direct_pack_x(g, t->x, b, xs);
      K.direct_fwd(g, xs, t->w, t->y + b * ysz, t->bias, t->act, 0, s->OH);
    }
  } else {
    /* fewer images than threads: each thread takes a share of every image's rows */
    const int oy0 = (int)((long)s->OH * tid / nth), oy1 = (int)((long)s->OH * (tid + 1) / nth);
    if (oy0 >= oy1) return;
    for (int b = 0; b < s->B; b++) {
      direct_pack_x(g, t->x, b, xs);
      K.direct_fwd(g, xs, t->w, t->y + b * ysz, t->bias, t->act, oy0, oy1);
    }
  }
}

static _Thread_local float *tl_vacc = NULL;
static _Thread_local size_t tl_vacc_n = 0;

/* Floats of the filter gradient's vector accumulators: one vector per (c, fy, fx, o < COp). */
static long direct_vacc_floats(const direct_geom_t *g) {
  const conv_t *s = g->s;
  return (long)s->C * s->FH * s->FW * g->COp * K.vw;
}

/* dw[fy, fx, c, o] = the lane sum of the accumulator of (c, fy, fx, o): blocks of taps fx0..
 * fx0+nt (nt = dw_t, or fewer at the row's end) x 4 channels, each [nt][4][vw]. */
static void direct_dw_reduce(const direct_geom_t *g, const float *vacc, float *dw) {
  const conv_t *s = g->s;
  const int vw = K.vw, tb = K.dw_t;
  for (int c = 0; c < s->C; c++) {
    for (int fy = 0; fy < s->FH; fy++) {
      for (int fx = 0; fx < s->FW; fx++) {
        const int fx0 = fx - fx % tb, t = fx - fx0;
        const int nt = s->FW - fx0 < tb ? s->FW - fx0 : tb;
        for (int o = 0; o < s->CO; o++) {
          const int ob = o - o % 4;
          const float *v =
              vacc + ((((long)c * s->FH + fy) * s->FW + fx0) * g->COp + (long)ob * nt + t * 4 +
                      o % 4) * vw;
          float sum = 0.0f;
          for (int i = 0; i < vw; i++) sum += v[i];
          dw[(((long)fy * s->FW + fx) * s->C + c) * s->CO + o] = sum;
        }
      }
    }
  }
}

static void direct_dw_task(void *ctx, int tid, int nth) {
  direct_t *t = ctx;
  const direct_geom_t *g = t->g;
  const conv_t *s = g->s;
  const long wsz = (long)s->FH * s->FW * s->C * s->CO;
  float *part = t->parts + tid * wsz;
  float *xs = grow(&tl_xs, &tl_xs_n, (size_t)(s->C * g->cstride));
  float *dyp = grow(&tl_dyp, &tl_dyp_n, (size_t)(g->COp * s->OH * g->OWr));
  float *vacc = grow(&tl_vacc, &tl_vacc_n, (size_t)direct_vacc_floats(g));
  if (xs == NULL || dyp == NULL || vacc == NULL) {
    t->failed = 1;
    return;
  }
  memset(vacc, 0, (size_t)direct_vacc_floats(g) * sizeof(float));
  for (int b = (int)((long)s->B * tid / nth); b < (int)((long)s->B * (tid + 1) / nth); b++) {
    direct_pack_x(g, t->x, b, xs);
    direct_pack_dy(g, t->dy, b, dyp);
    K.direct_dw(g, xs, dyp, vacc);
  }
  direct_dw_reduce(g, vacc, part);
}

/* y = conv(x, w) (+ bias, activation), direct. Returns 0 or -1 (memory). */
static int direct_forward(const conv_t *s, const float *x, const float *w, float *y,
                          const float *bias, int act) {
  direct_geom_t g = direct_geom(s);
  const long taps = (long)s->FH * s->FW * s->C;
  /* weights [FH, FW, C, COp]: zero columns past CO */
  float *wp = aligned_alloc(64, ((size_t)(taps + 1) * g.COp * sizeof(float) + 63) / 64 * 64);
  if (wp == NULL) return -1;
  for (long k = 0; k < taps; k++) {
    for (long o = 0; o < g.COp; o++) wp[k * g.COp + o] = o < s->CO ? w[k * s->CO + o] : 0.0f;
  }
  /* the bias, zero-padded to COp, after the weights */
  float *bp = wp + taps * g.COp;
  for (long o = 0; o < g.COp; o++) bp[o] = bias != NULL && o < s->CO ? bias[o] : 0.0f;
  direct_t t = {&g, x, wp, NULL, bias == NULL ? NULL : bp, y, NULL, act, 0};
  const double flops = 2.0 * s->B * s->OH * s->OW * s->CO * taps;
  if (flops < 2e6 || P.n == 1) {
    direct_fwd_task(&t, 0, 1);
  } else {
    run_parallel(direct_fwd_task, &t);
  }
  free(wp);
  return t.failed ? -1 : 0;
}

/* dw = dL/dw of y = conv(x, w) given dy, direct: per-thread partial sums over images. */
static int direct_backprop_filter(const conv_t *s, const float *x, const float *dy, float *dw) {
  direct_geom_t g = direct_geom(s);
  const long wsz = (long)s->FH * s->FW * s->C * s->CO;
  const double flops = 2.0 * s->B * s->OH * s->OW * wsz;
  const int nth = flops < 2e6 ? 1 : P.n;
  float *parts = malloc((size_t)nth * wsz * sizeof(float));
  if (parts == NULL) return -1;
  direct_t t = {&g, x, NULL, dy, NULL, NULL, parts, 0, 0};
  if (nth == 1) {
    direct_dw_task(&t, 0, 1);
  } else {
    run_parallel(direct_dw_task, &t);
  }
  for (long k = 0; k < wsz; k++) {
    float v = 0.0f;
    for (int i = 0; i < nth; i++) v += parts[i * wsz + k];
    dw[k] = v;
  }
  free(parts);
  return t.failed ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* im2col + GEMM over groups of images per thread: each thread builds the columns of a group of  */
/* its images in a cache-sized buffer of its own and multiplies them at once (no round trip of   */
/* the whole column matrix through memory, no per-call allocation).                             */

typedef struct {
  const conv_t *s;
  const float *x, *w, *dy, *bias;
  float *y;     /* forward output */
  float *parts; /* filter gradient: one [FH*FW*C, CO] partial sum per thread */
  int act;
  int failed;
} group_t;

static _Thread_local float *tl_col = NULL;
static _Thread_local size_t tl_col_n = 0;

/* Images per group: at least 256 column rows, or as many as fit in 128 Ki floats (512 KiB). */
static long group_images(const conv_t *s, int b0, int b1) {
  const long kk = (long)s->FH * s->FW * s->C, pix = (long)s->OH * s->OW;
  long nb = 131072 / (pix * kk);
  if (nb * pix < 256) nb = (256 + pix - 1) / pix;
  if (nb > b1 - b0) nb = b1 - b0;
  return nb;
}

/* Groups per thread pay for packing the weights once per group: worth it for small weights (LeNet's
 * layers), not for AlexNet's (1600 x 192 weights on 4x4 images: slower in an A/B run). */
static int use_groups(const conv_t *s) {
  return s->B >= 2 * P.n && P.n > 1 && (long)s->FH * s->FW * s->C * s->CO <= 65536;
}

static void forward_group_task(void *ctx, int tid, int nth) {
  group_t *t = ctx;
  const conv_t *s = t->s;
  const long kk = (long)s->FH * s->FW * s->C, pix = (long)s->OH * s->OW;
  const int b0 = (int)((long)s->B * tid / nth), b1 = (int)((long)s->B * (tid + 1) / nth);
  const long nb = group_images(s, b0, b1);
  if (nb < 1) return;
  float *col = grow(&tl_col, &tl_col_n, (size_t)(nb * pix * kk));
  if (col == NULL) {
    t->failed = 1;
    return;
  }
  gemm_t g = {col, kk, 1, t->w, s->CO, 1, NULL, s->CO, 1, 0, s->CO, (int)kk, 0, t->bias, t->act, 0};
  for (int b = b0; b < b1; b += (int)nb) {
    const int n = b1 - b < nb ? b1 - b : (int)nb;
    im2col_rows(s, t->x, col, b, 0, n * pix);
    g.c = t->y + (long)b * pix * s->CO, g.m = (int)(n * pix);
    gemm_serial(&g);
  }
}

static void filter_group_task(void *ctx, int tid, int nth) {
  group_t *t = ctx;
  const conv_t *s = t->s;
  const long kk = (long)s->FH * s->FW * s->C, pix = (long)s->OH * s->OW;
  float *part = t->parts + tid * kk * s->CO;
  memset(part, 0, (size_t)kk * s->CO * sizeof(float));
  const int b0 = (int)((long)s->B * tid / nth), b1 = (int)((long)s->B * (tid + 1) / nth);
  const long nb = group_images(s, b0, b1);
  if (nb < 1) return;
  float *col = grow(&tl_col, &tl_col_n, (size_t)(nb * pix * kk));
  if (col == NULL) {
    t->failed = 1;
    return;
  }
  /* part[kk, CO] += col^T dy_group */
  gemm_t g = {col, 1, kk, NULL, s->CO, 1, part, s->CO, 1, (int)kk, s->CO, 0, 1, NULL, 0, 0};
  for (int b = b0; b < b1; b += (int)nb) {
    const int n = b1 - b < nb ? b1 - b : (int)nb;
    im2col_rows(s, t->x, col, b, 0, n * pix);
    g.b = t->dy + (long)b * pix * s->CO, g.k = (int)(n * pix);
    gemm_serial(&g);
  }
}

/* y[B*OH*OW, CO] = im2col(x) @ w[FH*FW*C, CO] (+ bias, activation). Returns 0 or -1 (memory). */
static int conv_forward(const conv_t *s, const float *x, const float *w, float *y,
                        const float *bias, int act) {
  const long kk = (long)s->FH * s->FW * s->C, pix = (long)s->OH * s->OW;
  gemm_t g = {NULL, kk, 1, w, s->CO, 1, NULL, s->CO, 1, 0, s->CO, (int)kk, 0, bias, act, 0};
  if (use_direct(s) && !is_pointwise(s)) return direct_forward(s, x, w, y, bias, act);
  if (is_pointwise(s)) {
    g.a = x, g.c = y, g.m = (int)(s->B * pix);
    gemm(&g);
    return 0;
  }
  if (use_groups(s)) {
    group_t t = {s, x, w, NULL, bias, y, NULL, act, 0};
    run_parallel(forward_group_task, &t);
    return t.failed ? -1 : 0;
  }
  int nb = images_per_chunk(s);
  float *col = malloc((size_t)nb * pix * kk * sizeof(float));
  if (col == NULL) return -1;
  for (int b0 = 0; b0 < s->B; b0 += nb) {
    int n = s->B - b0 < nb ? s->B - b0 : nb;
    im2col(s, x, col, b0, n);
    g.a = col, g.c = y + (long)b0 * pix * s->CO, g.m = (int)(n * pix);
    gemm(&g);
  }
  free(col);
  return 0;
}

/* dw[FH*FW*C, CO] = im2col(x)^T @ dy[B*OH*OW, CO], summed over chunks. */
static int conv_backprop_filter(const conv_t *s, const float *x, const float *dy, float *dw) {
  const long kk = (long)s->FH * s->FW * s->C, pix = (long)s->OH * s->OW;
  gemm_t g = {NULL, 1, kk, NULL, s->CO, 1, dw, s->CO, 1, (int)kk, s->CO, 0, 0, NULL, 0, 0};
  /* direct unless its per-thread accumulators (a vector per tap and channel pair) pass 8 MiB */
  if (use_direct(s) && !is_pointwise(s) &&
      (long)s->C * s->FH * s->FW * ((s->CO + 3) / 4 * 4) * K.vw <= (1L << 21))
    return direct_backprop_filter(s, x, dy, dw);
  if (is_pointwise(s)) {
    g.a = x, g.b = dy, g.k = (int)(s->B * pix);
    gemm(&g);
    return 0;
  }
  if (use_groups(s)) {
    float *parts = malloc((size_t)P.n * kk * s->CO * sizeof(float));
    if (parts == NULL) return -1;
    group_t t = {s, x, NULL, dy, NULL, NULL, parts, 0, 0};
    run_parallel(filter_group_task, &t);
    for (long i = 0; i < kk * s->CO; i++) {
      float v = 0.0f;
      for (int j = 0; j < P.n; j++) v += parts[j * kk * s->CO + i];
      dw[i] = v;
    }
    free(parts);
    return t.failed ? -1 : 0;
  }
  int nb = images_per_chunk(s);
  float *col = malloc((size_t)nb * pix * kk * sizeof(float));
  if (col == NULL) return -1;
  for (int b0 = 0; b0 < s->B; b0 += nb) {
    int n = s->B - b0 < nb ? s->B - b0 : nb;
    im2col(s, x, col, b0, n);
    g.a = col, g.b = dy + (long)b0 * pix * s->CO, g.k = (int)(n * pix);
    g.accumulate = b0 > 0;
    gemm(&g);
  }
  free(col);
  return 0;
}

typedef struct {
  const conv_t *s;
  const float *dy, *w;
  float *dx;
  int failed;
} col2im_group_t;

/* This thread's share of the images: per group of nb images, col = dy_group @ w^T on this thread
 * (nb*OH*OW rows: at least 256, or a group whose columns fit in 256 KiB), then col2im. */
static void col2im_group_task(void *ctx, int tid, int nth) {
  col2im_group_t *t = ctx;
  const conv_t *s = t->s;
  const long kk = (long)s->FH * s->FW * s->C, pix = (long)s->OH * s->OW;
  const int b0 = (int)((long)s->B * tid / nth), b1 = (int)((long)s->B * (tid + 1) / nth);
  long nb = 65536 / (pix * kk);
  if (nb * pix < 256) nb = (256 + pix - 1) / pix;
  if (nb > b1 - b0) nb = b1 - b0;
  if (nb < 1) return;
  float *col = grow(&tl_col, &tl_col_n, (size_t)(nb * pix * kk));
  if (col == NULL) {
    t->failed = 1;
    return;
  }
  gemm_t g = {NULL, s->CO, 1, t->w, 1, s->CO, col, kk, 1, 0, (int)kk, s->CO, 0, NULL, 0, 0};
  for (int b = b0; b < b1; b += (int)nb) {
    const int n = b1 - b < nb ? b1 - b : (int)nb;
    g.a = t->dy + (long)b * pix * s->CO, g.m = (int)(n * pix);
    gemm_serial(&g);
    for (int i = 0; i < n; i++) col2im_image(s, col + i * pix * kk, t->dx, b + i);
  }
}

/* dx = col2im(dy[B*OH*OW, CO] @ w^T[CO, FH*FW*C]). */
static int conv_backprop_input(const conv_t *s, const float *dy, const float *w, float *dx) {
  const long kk = (long)s->FH * s->FW * s->C, pix = (long)s->OH * s->OW;
  gemm_t g = {NULL, s->CO, 1, w, 1, s->CO, NULL, kk, 1, 0, (int)kk, s->CO, 0, NULL, 0, 0};
  if (is_pointwise(s)) {
    g.a = dy, g.c = dx, g.m = (int)(s->B * pix);
    gemm(&g);
    return 0;
  }
  memset(dx, 0, (size_t)s->B * s->H * s->W * s->C * sizeof(float));
  if (use_groups(s)) {
    /* threads over groups of images, each computing its columns into a cache-sized buffer and
     * scattering them at once (no round trip of the whole column matrix through memory) */
    col2im_group_t t = {s, dy, w, dx, 0};
    run_parallel(col2im_group_task, &t);
    return t.failed ? -1 : 0;
  }
  int nb = images_per_chunk(s);
  float *col = malloc((size_t)nb * pix * kk * sizeof(float));
  if (col == NULL) return -1;
  for (int b0 = 0; b0 < s->B; b0 += nb) {
    int n = s->B - b0 < nb ? s->B - b0 : nb;
    g.a = dy + (long)b0 * pix * s->CO, g.c = col, g.m = (int)(n * pix);
    gemm(&g);
    col2im_t t = {s, col, dx, b0, n};
    if (n == 1 || P.n == 1) {
      col2im_task(&t, 0, 1);
    } else {
      run_parallel(col2im_task, &t);
    }
  }
  free(col);
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* N-API bindings                                                                               */

#define CHECK(call)                                                                         \
  do {                                                                                      \
    if ((call) != napi_ok) {                                                                \
      napi_throw_error(env, NULL, "deepprob native: bad arguments to " __FILE__);           \
      return NULL;                                                                          \
    }                                                                                       \
  } while (0)

/* The float data of a Float32Array argument and its length in floats. */
static int heap_arg(napi_env env, napi_value v, float **data, size_t *len) {
  napi_typedarray_type type;
  size_t length, offset;
  void *ptr;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &offset) != napi_ok) return -1;
  if (type != napi_float32_array || ptr == NULL) return -1;
  *data = ptr;
  *len = length;
  return 0;
}

static napi_value throw_range(napi_env env, const char *what) {
  napi_throw_range_error(env, NULL, what);
  return NULL;
}

/* The arguments of a kernel binding on the heap: exactly `argc` (<= 24) of them, the Float32Array
 * heap at `heap_at`, every other one a number (into `nums`, in order). On a mismatch it throws a
 * RangeError naming the binding and returns -1. */
static int heap_call_args(napi_env env, napi_callback_info info, const char *name, size_t argc,
                          size_t heap_at, float **heap, size_t *len, double *nums) {
  size_t got = argc;
  napi_value argv[24];
  char msg[96];
  if (napi_get_cb_info(env, info, &got, argv, NULL, NULL) != napi_ok) return -1;
  if (got != argc) {
    snprintf(msg, sizeof msg, "deepprob native %s: expected %zu arguments", name, argc);
    throw_range(env, msg);
    return -1;
  }
  if (heap_arg(env, argv[heap_at], heap, len) != 0) {
    snprintf(msg, sizeof msg, "deepprob native %s: heap must be a Float32Array", name);
    throw_range(env, msg);
    return -1;
  }
  for (size_t i = 0, j = 0; i < argc; i++) {
    if (i == heap_at) continue;
    if (napi_get_value_double(env, argv[i], &nums[j++]) != napi_ok) {
      snprintf(msg, sizeof msg, "deepprob native %s: numbers expected", name);
      throw_range(env, msg);
      return -1;
    }
  }
  return 0;
}

/* gemm(heap, m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, accumulate, bias (-1: none), act) */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  float *heap;
  size_t len;
  double v[14];
  if (heap_call_args(env, info, "gemm", 15, 0, &heap, &len, v) != 0) return NULL;
  int m = (int)v[0], n = (int)v[1], k = (int)v[2];
  long a = (long)v[3], rsa = (long)v[4], csa = (long)v[5];
  long b = (long)v[6], rsb = (long)v[7], csb = (long)v[8];
  long c = (long)v[9], ldc = (long)v[10];
  long bias = (long)v[12];
  if (m < 0 || n < 0 || k < 0 || a < 0 || b < 0 || c < 0) return throw_range(env, "gemm: < 0");
  long lastA = m > 0 && k > 0 ? a + (long)(m - 1) * rsa + (long)(k - 1) * csa : a;
  long lastB = k > 0 && n > 0 ? b + (long)(k - 1) * rsb + (long)(n - 1) * csb : b;
  long lastC = m > 0 && n > 0 ? c + (long)(m - 1) * ldc + n - 1 : c;
  if ((size_t)lastA >= len || (size_t)lastB >= len || (size_t)lastC >= len ||
      (bias >= 0 && (size_t)(bias + n) > len))
    return throw_range(env, "deepprob native gemm: operand outside the heap");
  gemm_t g = {heap + a, rsa, csa, heap + b, rsb, csb, heap + c, ldc, 1, m, n, k, (int)v[11],
              bias >= 0 ? heap + bias : NULL, (int)v[13], 0};
  gemm(&g);
  return NULL;
}

/* conv(kind, heap, p0, p1, p2, bias, act, B, H, W, C, OH, OW, FH, FW, SH, SW, DH, DW, PT, PL, CO)
 * kind 0: forward (x, w, y); 1: gradient of the input (dy, w, dx); 2: of the filter (x, dy, dw). */
static napi_value js_conv(napi_env env, napi_callback_info info) {
  float *heap;
  size_t len;
  double v[21];
  if (heap_call_args(env, info, "conv", 22, 1, &heap, &len, v) != 0) return NULL;
  const double kind = v[0], *p = v + 1, *d = v + 6;
  conv_t s = {(int)d[0], (int)d[1],  (int)d[2],  (int)d[3],  (int)d[4],
              (int)d[5], (int)d[6],  (int)d[7],  (int)d[8],  (int)d[9],
              (int)d[10], (int)d[11], (int)d[12], (int)d[13], (int)d[14]};
  for (int i = 0; i < 15; i++)
    if (d[i] < (i >= 12 && i <= 13 ? -1e9 : 0)) return throw_range(env, "conv: bad geometry");
  size_t xs = (size_t)s.B * s.H * s.W * s.C, ws = (size_t)s.FH * s.FW * s.C * s.CO,
         ys = (size_t)s.B * s.OH * s.OW * s.CO;
  size_t need[3][3] = {{xs, ws, ys}, {ys, ws, xs}, {xs, ys, ws}};
  int kd = (int)kind;
  if (kd < 0 || kd > 2) return throw_range(env, "deepprob native conv: kind must be 0, 1 or 2");
  for (int i = 0; i < 3; i++)
    if (p[i] < 0 || (size_t)p[i] + need[kd][i] > len)
      return throw_range(env, "deepprob native conv: operand outside the heap");
  if (p[3] >= 0 && (size_t)p[3] + s.CO > len)
    return throw_range(env, "deepprob native conv: bias outside the heap");
  float *a0 = heap + (long)p[0], *a1 = heap + (long)p[1], *a2 = heap + (long)p[2];
  int rc = kd == 0   ? conv_forward(&s, a0, a1, a2, p[3] >= 0 ? heap + (long)p[3] : NULL, (int)p[4])
           : kd == 1 ? conv_backprop_input(&s, a0, a1, a2)
                     : conv_backprop_filter(&s, a0, a1, a2);
  if (rc != 0) napi_throw_error(env, NULL, "deepprob native conv: out of memory");
  return NULL;
}

typedef struct {
  int op;
  const float *a, *b;
  float *out;
  long n;
} eltwise_t;

static void eltwise_task(void *ctx, int tid, int nth) {
  const eltwise_t *t = ctx;
  /* split at multiples of 16 floats (whole vectors, whole cache lines) */
  const long blocks = (t->n + 15) / 16;
  long i0 = blocks * tid / nth * 16, i1 = blocks * (tid + 1) / nth * 16;
  if (i1 > t->n) i1 = t->n;
  if (i0 >= i1) return;
  K.eltwise(t->op, t->a + i0, t->b == NULL ? NULL : t->b + i0, t->out + i0, i1 - i0);
}

/* eltwise(op, heap, a, b (-1: none), out, n): op 0 relu(a), op 1 relu gradient (dy = a, x = b). */
static napi_value js_eltwise(napi_env env, napi_callback_info info) {
  float *heap;
  size_t len;
  double v[5];
  if (heap_call_args(env, info, "eltwise", 6, 1, &heap, &len, v) != 0) return NULL;
  const double op = v[0];
  const long a = (long)v[1], b = (long)v[2], out = (long)v[3], n = (long)v[4];
  if ((op != 0 && op != 1) || (op == 1 && b < 0))
    return throw_range(env, "deepprob native eltwise: op must be 0 (relu) or 1 (relu gradient)");
  if (n < 0 || a < 0 || out < 0 || (size_t)(a + n) > len || (size_t)(out + n) > len ||
      (b >= 0 && (size_t)(b + n) > len))
    return throw_range(env, "deepprob native eltwise: operand outside the heap");
  eltwise_t t = {(int)op, heap + a, b >= 0 ? heap + b : NULL, heap + out, n};
  if (n < (1L << 16) || P.n == 1) {
    eltwise_task(&t, 0, 1);
  } else {
    run_parallel(eltwise_task, &t);
  }
  return NULL;
}

typedef struct {
  int op;
  float *p[7];
  double s[6];
  long n;
  double part[MAX_THREADS];
} pointwise_t;

static void pointwise_task(void *ctx, int tid, int nth) {
  pointwise_t *t = ctx;
  const long blocks = (t->n + 15) / 16;
  long i0 = blocks * tid / nth * 16, i1 = blocks * (tid + 1) / nth * 16;
  if (i1 > t->n) i1 = t->n;
  t->part[tid] = i0 < i1 ? K.pointwise(t->op, t->p, t->s, i0, i1) : 0.0;
}

/* Floats each operand of a pointwise op spans (0: unused), given n and the scalars. */
static void pointwise_spans(int op, long n, const double *s, long span[7]) {
  for (int i = 0; i < 7; i++) span[i] = 0;
  const long c = s[1] == 1 ? 1 : n;
  switch (op) {
    case PW_SOFTPLUS: span[0] = span[1] = n; break;
    case PW_SOFTPLUS_GRAD: span[0] = span[1] = span[2] = n; break;
    case PW_REPARAM:
    case PW_REPARAM_GRAD: span[0] = span[1] = span[2] = span[3] = n; break;
    case PW_KL: span[0] = span[1] = n, span[2] = c; break;
    case PW_KL_GRAD_MU: span[0] = span[2] = n, span[1] = c; break;
    case PW_KL_GRAD_RHO: span[0] = span[1] = n; break;
    default: for (int i = 0; i < 7; i++) span[i] = n; break;
  }
}

/* pointwise(op, heap, n, p0..p6 (-1: unused), s0..s5) -> the sum for PW_KL, else 0 (ops and
 * operands: pointwise.h). Threaded from 2^14 elements. */
static napi_value js_pointwise(napi_env env, napi_callback_info info) {
  float *heap;
  size_t len;
  double v[15];
  if (heap_call_args(env, info, "pointwise", 16, 1, &heap, &len, v) != 0) return NULL;
  const int op = (int)v[0];
  const long n = (long)v[1];
  if (!(v[0] >= 0 && v[0] < PW_OPS && v[0] == op))
    return throw_range(env, "deepprob native pointwise: unknown op");
  pointwise_t t = {op, {NULL}, {0}, n, {0}};
  for (int i = 0; i < 6; i++) t.s[i] = v[9 + i];
  if (op == PW_KL || op == PW_KL_GRAD_MU) {
    if (t.s[1] != 1 && t.s[1] != n)
      return throw_range(env, "deepprob native pointwise: centre must have 1 or n values");
  }
  long span[7];
  pointwise_spans(op, n, t.s, span);
  if (n < 0) return throw_range(env, "deepprob native pointwise: n < 0");
  for (int i = 0; i < 7; i++) {
    const long at = (long)v[2 + i];
    if (span[i] == 0) continue;
    if (at < 0 || (size_t)(at + span[i]) > len)
      return throw_range(env, "deepprob native pointwise: operand outside the heap");
    t.p[i] = heap + at;
  }
  /* transcendental ops (~1 ns an element on one core): threads from 2^16 elements, where half the
   * work outweighs waking the pool */
  if (n < (1L << 16) || P.n == 1) {
    pointwise_task(&t, 0, 1);
  } else {
    run_parallel(pointwise_task, &t);
  }
  double total = 0.0;
  for (int i = 0; i < MAX_THREADS; i++) total += t.part[i];
  napi_value out;
  CHECK(napi_create_double(env, total, &out));
  return out;
}

typedef struct {
  const conv_t *s;
  const float *x, *dy;
  float *out;
  int grad;
} pool_t;

static void pool_task(void *ctx, int tid, int nth) {
  pool_t *t = ctx;
  const conv_t *s = t->s;
  const int b0 = (int)((long)s->B * tid / nth), b1 = (int)((long)s->B * (tid + 1) / nth);
  for (int b = b0; b < b1; b++) {
    if (t->grad) {
      K.maxpool_grad(s, t->x, t->dy, t->out, b);
    } else {
      K.maxpool(s, t->x, t->out, b);
    }
  }
}

/* pool(kind, heap, p0, p1, p2, B, H, W, C, OH, OW, FH, FW, SH, SW, DH, DW, PT, PL): max pooling,
 * kind 0 forward (x, y, unused), kind 1 gradient (x, dy, dx); threads over images. */
static napi_value js_pool(napi_env env, napi_callback_info info) {
  float *heap;
  size_t len;
  double v[18];
  if (heap_call_args(env, info, "pool", 19, 1, &heap, &len, v) != 0) return NULL;
  const int kind = (int)v[0];
  const double *p = v + 1, *d = v + 4;
  for (int i = 0; i < 14; i++)
    if (d[i] < (i >= 12 ? -1e9 : 0) || d[i] > 2e9) return throw_range(env, "pool: bad geometry");
  conv_t s = {(int)d[0], (int)d[1], (int)d[2], (int)d[3], (int)d[4], (int)d[5], (int)d[6],
              (int)d[7], (int)d[8], (int)d[9], (int)d[10], (int)d[11], (int)d[12], (int)d[13],
              (int)d[3]};
  if (kind != 0 && kind != 1) return throw_range(env, "deepprob native pool: kind must be 0 or 1");
  const size_t xs = (size_t)s.B * s.H * s.W * s.C, ys = (size_t)s.B * s.OH * s.OW * s.C;
  if (xs >= (1UL << 31) || ys >= (1UL << 31))
    return throw_range(env, "deepprob native pool: tensor too large");
  const size_t need[2][3] = {{xs, ys, 0}, {xs, ys, xs}};
  for (int i = 0; i < 3; i++)
    if (need[kind][i] > 0 && (p[i] < 0 || (size_t)p[i] + need[kind][i] > len))
      return throw_range(env, "deepprob native pool: operand outside the heap");
  pool_t t = {&s, heap + (long)p[0], kind == 1 ? heap + (long)p[1] : NULL,
              heap + (long)(kind == 1 ? p[2] : p[1]), kind};
  if (s.B == 1 || P.n == 1 || xs < (1UL << 17)) {
    pool_task(&t, 0, 1);
  } else {
    run_parallel(pool_task, &t);
  }
  return NULL;
}

typedef struct {
  const float *a;
  long rows, cols;
  double *parts; /* one [cols] partial sum per thread */
  float *acc;    /* one [cols] float block sum per thread */
} colsum_t;

static void colsum_task(void *ctx, int tid, int nth) {
  colsum_t *t = ctx;
  K.colsum(t->a, t->cols, t->rows * tid / nth, t->rows * (tid + 1) / nth, t->parts + tid * t->cols,
           t->acc + tid * t->cols);
}

/* colsum(heap, a, rows, cols, out): out[j] = sum_i a[i*cols + j] (threads over rows). */
static napi_value js_colsum(napi_env env, napi_callback_info info) {
  float *heap;
  size_t len;
  double v[4];
  if (heap_call_args(env, info, "colsum", 5, 0, &heap, &len, v) != 0) return NULL;
  const long a = (long)v[0], rows = (long)v[1], cols = (long)v[2], out = (long)v[3];
  if (a < 0 || rows < 0 || cols < 1 || out < 0 || (size_t)(a + rows * cols) > len ||
      (size_t)(out + cols) > len)
    return throw_range(env, "deepprob native colsum: operand outside the heap");
  const int nth = rows * cols < (1L << 18) || rows < 128 ? 1 : P.n;
  double *parts = malloc((size_t)nth * cols * (sizeof(double) + sizeof(float)));
  if (parts == NULL) {
    napi_throw_error(env, NULL, "deepprob native colsum: out of memory");
    return NULL;
  }
  colsum_t t = {heap + a, rows, cols, parts, (float *)(parts + (long)nth * cols)};
  if (nth == 1) {
    colsum_task(&t, 0, 1);
  } else {
    run_parallel(colsum_task, &t);
  }
  for (long j = 0; j < cols; j++) {
    double sum = 0.0;
    for (int i = 0; i < nth; i++) sum += parts[i * cols + j];
    heap[out + j] = (float)sum;
  }
  free(parts);
  return NULL;
}

/* copy4: out[o] = x[o - off] where that index is inside x, `value` elsewhere, on 4-D shapes (a
 * constant pad: off = the padding before each axis; a slice: off = -begin). */
typedef struct {
  const float *x;
  float *out;
  long in[4], o[4], off[4];
  float value;
} copy4_t;

static void copy4_rows(const copy4_t *t, long r0, long r1) {
  const long o3 = t->o[3];
  /* the run of the last axis that comes from x: out columns [lo, hi) */
  long lo = t->off[3] > 0 ? t->off[3] : 0;
  long hi = t->in[3] + t->off[3] < o3 ? t->in[3] + t->off[3] : o3;
  if (hi < lo) hi = lo;
  for (long r = r0; r < r1; r++) {
    const long i2 = r % t->o[2] - t->off[2];
    const long i1 = r / t->o[2] % t->o[1] - t->off[1];
    const long i0 = r / t->o[2] / t->o[1] - t->off[0];
    float *d = t->out + r * o3;
    if (i0 < 0 || i0 >= t->in[0] || i1 < 0 || i1 >= t->in[1] || i2 < 0 || i2 >= t->in[2] ||
        hi == lo) {
      for (long j = 0; j < o3; j++) d[j] = t->value;
      continue;
    }
    for (long j = 0; j < lo; j++) d[j] = t->value;
    const float *src = t->x + ((i0 * t->in[1] + i1) * t->in[2] + i2) * t->in[3] + lo - t->off[3];
    memcpy(d + lo, src, (size_t)(hi - lo) * sizeof(float));
    for (long j = hi; j < o3; j++) d[j] = t->value;
  }
}

static void copy4_task(void *ctx, int tid, int nth) {
  const copy4_t *t = ctx;
  const long rows = t->o[0] * t->o[1] * t->o[2];
  copy4_rows(t, rows * tid / nth, rows * (tid + 1) / nth);
}

/* copy4(heap, x, out, in0..in3, out0..out3, off0..off3, value) */
static napi_value js_copy4(napi_env env, napi_callback_info info) {
  float *heap;
  size_t len;
  double v[15];
  if (heap_call_args(env, info, "copy4", 16, 0, &heap, &len, v) != 0) return NULL;
  copy4_t t;
  size_t xs = 1, os = 1;
  for (int i = 0; i < 4; i++) {
    if (!(v[2 + i] >= 0 && v[6 + i] >= 0 && v[2 + i] < 2e9 && v[6 + i] < 2e9 &&
          v[10 + i] > -2e9 && v[10 + i] < 2e9))
      return throw_range(env, "deepprob native copy4: bad shape");
    t.in[i] = (long)v[2 + i], t.o[i] = (long)v[6 + i], t.off[i] = (long)v[10 + i];
    xs *= (size_t)t.in[i], os *= (size_t)t.o[i];
  }
  if (v[0] < 0 || v[1] < 0 || (size_t)v[0] + xs > len || (size_t)v[1] + os > len)
    return throw_range(env, "deepprob native copy4: operand outside the heap");
  t.x = heap + (long)v[0], t.out = heap + (long)v[1], t.value = (float)v[14];
  if (os == 0) return NULL;
  if (os < (1UL << 18) || P.n == 1) {
    copy4_task(&t, 0, 1);
  } else {
    run_parallel(copy4_task, &t);
  }
  return NULL;
}

/* binary: out = a (op) b with broadcasting on 4-D shapes: element strides sa, sb per axis (0 where
 * broadcast; the last axis has stride 0 or 1); op 0 add, 1 subtract, 2 multiply. */
typedef struct {
  int op;
  const float *a, *b;
  float *out;
  long o[4], sa[4], sb[4];
} binary_t;

static void binary_rows(const binary_t *t, long r0, long r1) {
  const long n = t->o[3], sa3 = t->sa[3], sb3 = t->sb[3];
  for (long r = r0; r < r1; r++) {
    const long i2 = r % t->o[2], i1 = r / t->o[2] % t->o[1], i0 = r / t->o[2] / t->o[1];
    const float *restrict a = t->a + i0 * t->sa[0] + i1 * t->sa[1] + i2 * t->sa[2];
    const float *restrict b = t->b + i0 * t->sb[0] + i1 * t->sb[1] + i2 * t->sb[2];
    float *restrict o = t->out + r * n;
#define BIN_LOOP(EXPR)                                                  \
  do {                                                                  \
    if (sa3 == 1 && sb3 == 1)                                           \
      for (long j = 0; j < n; j++) { const float x = a[j], y = b[j]; o[j] = EXPR; } \
    else if (sa3 == 1)                                                  \
      for (long j = 0; j < n; j++) { const float x = a[j], y = b[0]; o[j] = EXPR; } \
    else if (sb3 == 1)                                                  \
      for (long j = 0; j < n; j++) { const float x = a[0], y = b[j]; o[j] = EXPR; } \
    else                                                                \
      for (long j = 0; j < n; j++) { const float x = a[0], y = b[0]; o[j] = EXPR; } \
  } while (0)
    switch (t->op) {
      case 0: BIN_LOOP(x + y); break;
      case 1: BIN_LOOP(x - y); break;
      default: BIN_LOOP(x * y); break;
    }
#undef BIN_LOOP
  }
}

static void binary_task(void *ctx, int tid, int nth) {
  const binary_t *t = ctx;
  const long rows = t->o[0] * t->o[1] * t->o[2];
  binary_rows(t, rows * tid / nth, rows * (tid + 1) / nth);
}

/* binary(op, heap, a, b, out, o0..o3, sa0..sa3, sb0..sb3) */
static napi_value js_binary(napi_env env, napi_callback_info info) {
  float *heap;
  size_t len;
  double v[16];
  if (heap_call_args(env, info, "binary", 17, 1, &heap, &len, v) != 0) return NULL;
  binary_t t;
  t.op = (int)v[0];
  if (!(v[0] == 0 || v[0] == 1 || v[0] == 2))
    return throw_range(env, "deepprob native binary: op must be 0 (add), 1 (sub) or 2 (mul)");
  long lastA = 0, lastB = 0, total = 1;
  for (int i = 0; i < 4; i++) {
    if (!(v[4 + i] >= 1 && v[4 + i] < 2e9 && v[8 + i] >= 0 && v[12 + i] >= 0 && v[8 + i] < 2e9 &&
          v[12 + i] < 2e9))
      return throw_range(env, "deepprob native binary: bad shape or strides");
    t.o[i] = (long)v[4 + i], t.sa[i] = (long)v[8 + i], t.sb[i] = (long)v[12 + i];
    lastA += (t.o[i] - 1) * t.sa[i], lastB += (t.o[i] - 1) * t.sb[i], total *= t.o[i];
  }
  if (t.sa[3] > 1 || t.sb[3] > 1)
    return throw_range(env, "deepprob native binary: last axis stride must be 0 or 1");
  if (v[1] < 0 || v[2] < 0 || v[3] < 0 || (size_t)(v[1] + lastA) >= len ||
      (size_t)(v[2] + lastB) >= len || (size_t)(v[3] + total) > len)
    return throw_range(env, "deepprob native binary: operand outside the heap");
  t.a = heap + (long)v[1], t.b = heap + (long)v[2], t.out = heap + (long)v[3];
  if (total < (1L << 18) || P.n == 1) {
    binary_task(&t, 0, 1);
  } else {
    run_parallel(binary_task, &t);
  }
  return NULL;
}

/* info() -> { isa, threads } */
static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value o, isa, th;
  CHECK(napi_create_object(env, &o));
  CHECK(napi_create_string_utf8(env, K.isa, NAPI_AUTO_LENGTH, &isa));
  CHECK(napi_create_int32(env, P.n, &th));
  CHECK(napi_set_named_property(env, o, "isa", isa));
  CHECK(napi_set_named_property(env, o, "threads", th));
  return o;
}

/* setChunkFloats(n) -> previous cap on the im2col buffer, in floats (n >= 1). */
static napi_value js_set_chunk(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double v;
  if (argc != 1 || napi_get_value_double(env, argv[0], &v) != napi_ok || !(v >= 1))
    return throw_range(env, "deepprob native setChunkFloats: expected a number >= 1");
  CHECK(napi_create_double(env, (double)chunk_floats, &out));
  chunk_floats = (long)v;
  return out;
}

/* setDirectMaxChannels(n, strided) -> [previous n, previous strided]: convolutions of at most n
 * input channels (strided for horizontal stride or dilation > 1) run direct (forward and filter
 * gradient; 0 = never). */
static napi_value js_set_direct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out, prev0, prev1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double v, w;
  if (argc != 2 || napi_get_value_double(env, argv[0], &v) != napi_ok ||
      napi_get_value_double(env, argv[1], &w) != napi_ok || !(v >= 0) || !(w >= 0))
    return throw_range(env, "deepprob native setDirectMaxChannels: expected two numbers >= 0");
  CHECK(napi_create_array_with_length(env, 2, &out));
  CHECK(napi_create_double(env, (double)direct_max_channels, &prev0));
  CHECK(napi_create_double(env, (double)direct_max_channels_strided, &prev1));
  CHECK(napi_set_element(env, out, 0, prev0));
  CHECK(napi_set_element(env, out, 1, prev1));
  direct_max_channels = v > 1e6 ? 1000000 : (int)v;
  direct_max_channels_strided = w > 1e6 ? 1000000 : (int)w;
  return out;
}

/* A binding that runs `impl` with subnormals flushed on the calling thread (ftz_enter). */
#define FTZ_BINDING(name, impl)                                   \
  static napi_value name(napi_env env, napi_callback_info info) { \
    const unsigned csr = ftz_enter();                             \
    napi_value r = impl(env, info);                               \
    ftz_leave(csr);                                               \
    return r;                                                     \
  }
FTZ_BINDING(ftz_gemm, js_gemm)
FTZ_BINDING(ftz_conv, js_conv)
FTZ_BINDING(ftz_eltwise, js_eltwise)
FTZ_BINDING(ftz_pointwise, js_pointwise)
FTZ_BINDING(ftz_pool, js_pool)
FTZ_BINDING(ftz_colsum, js_colsum)
FTZ_BINDING(ftz_copy4, js_copy4)
FTZ_BINDING(ftz_binary, js_binary)

/* setAInPlace(on) -> previous: whether the GEMM reads a row-major A in place (1, default) or packs
 * it (0); for A/B timing and tests. */
static napi_value js_set_a_in_place(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double v;
  if (argc != 1 || napi_get_value_double(env, argv[0], &v) != napi_ok || (v != 0 && v != 1))
    return throw_range(env, "deepprob native setAInPlace: expected 0 or 1");
  CHECK(napi_create_double(env, (double)a_in_place, &out));
  a_in_place = (int)v;
  return out;
}

static int initialised = 0;

/* init(threads, isa) once per process (later calls keep the first pool). */
static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t threads = 1;
  if (argc >= 1) CHECK(napi_get_value_int32(env, argv[0], &threads));
  char isa[16] = "";
  size_t n = 0;
  if (argc >= 2) CHECK(napi_get_value_string_utf8(env, argv[1], isa, sizeof isa, &n));
  if (!initialised) {
    choose_isa(n > 0 ? isa : NULL);
    start_pool(threads);
    initialised = 1;
  }
  return js_info(env, info);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, ftz_gemm, NULL, NULL, NULL, napi_default, NULL},
      {"conv", NULL, ftz_conv, NULL, NULL, NULL, napi_default, NULL},
      {"setChunkFloats", NULL, js_set_chunk, NULL, NULL, NULL, napi_default, NULL},
      {"setDirectMaxChannels", NULL, js_set_direct, NULL, NULL, NULL, napi_default, NULL},
      {"eltwise", NULL, ftz_eltwise, NULL, NULL, NULL, napi_default, NULL},
      {"pointwise", NULL, ftz_pointwise, NULL, NULL, NULL, napi_default, NULL},
      {"pool", NULL, ftz_pool, NULL, NULL, NULL, napi_default, NULL},
      {"colsum", NULL, ftz_colsum, NULL, NULL, NULL, napi_default, NULL},
      {"copy4", NULL, ftz_copy4, NULL, NULL, NULL, napi_default, NULL},
      {"setAInPlace", NULL, js_set_a_in_place, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, ftz_binary, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 13, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
