/**
 * Plain-JS float64 references for the GP tests: kernels, Cholesky, triangular solves, the
 * log marginal likelihood and the GP predictive, written independently of the library.
 */
export type Mat = number[][];

export function matmul(a: Mat, b: Mat): Mat {
  return a.map((row) =>
    (b[0] as number[]).map((_, j) => row.reduce((s, v, k) => s + v * (b[k] as number[])[j]!, 0)),
  );
}
export function transpose(a: Mat): Mat {
  return (a[0] as number[]).map((_, j) => a.map((r) => r[j]!));
}
export function add(a: Mat, b: Mat, s = 1): Mat {
  return a.map((r, i) => r.map((v, j) => v + s * (b[i] as number[])[j]!));
}
export function eye(n: number, v = 1): Mat {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? v : 0)),
  );
}
export function chol(a: Mat): Mat {
  const n = a.length;
  const l: Mat = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    let s = a[j]![j]!;
    for (let k = 0; k < j; k++) s -= l[j]![k]! ** 2;
    l[j]![j] = Math.sqrt(s);
    for (let i = j + 1; i < n; i++) {
      let t = a[i]![j]!;
      for (let k = 0; k < j; k++) t -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = t / l[j]![j]!;
    }
  }
  return l;
}
/** Solve L X = B (lower L), B a matrix. */
export function solveL(l: Mat, b: Mat): Mat {
  const n = l.length;
  const x: Mat = b.map((r) => [...r]);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < x[0]!.length; c++) {
      let s = x[i]![c]!;
      for (let k = 0; k < i; k++) s -= l[i]![k]! * x[k]![c]!;
      x[i]![c] = s / l[i]![i]!;
    }
  return x;
}
/** A^{-1} B for SPD A. */
export function spdSolve(a: Mat, b: Mat): Mat {
  const l = chol(a);
  const y = solveL(l, b);
  // solve L^T X = Y
  const n = l.length;
  const x: Mat = y.map((r) => [...r]);
  for (let i = n - 1; i >= 0; i--)
    for (let c = 0; c < x[0]!.length; c++) {
      let s = x[i]![c]!;
      for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]![c]!;
      x[i]![c] = s / l[i]![i]!;
    }
  return x;
}
export function col(v: number[]): Mat {
  return v.map((x) => [x]);
}
/** log N(y | mu, A). */
export function mvnLogPdf(y: number[], mu: number[], a: Mat): number {
  const l = chol(a);
  const z = solveL(l, col(y.map((v, i) => v - mu[i]!)));
  const maha = z.reduce((s, r) => s + r[0]! ** 2, 0);
  const logdet = l.reduce((s, r, i) => s + Math.log(r[i]!), 0);
  return -0.5 * maha - logdet - (y.length / 2) * Math.log(2 * Math.PI);
}

/** Scaled squared distance with per-dim lengthscales. */
export function r2(x: number[], z: number[], ls: number[]): number {
  return x.reduce((s, v, d) => s + ((v - z[d]!) / ls[d % ls.length]!) ** 2, 0);
}
export type KFn = (x: number[], z: number[]) => number;
export function gram(k: KFn, X: number[][], Z: number[][] = X): Mat {
  return X.map((x) => Z.map((z) => k(x, z)));
}
export const rbf =
  (v: number, ls: number[]): KFn =>
  (x, z) =>
    v * Math.exp(-0.5 * r2(x, z, ls));

/** Exact GP: log p(y), predictive mean and covariance of f at Xs. */
export function exactGP(
  k: KFn,
  X: number[][],
  y: number[],
  noise: number,
  Xs: number[][],
): { lml: number; mean: number[]; cov: Mat } {
  const n = X.length;
  const K = add(gram(k, X), eye(n, noise));
  const lml = mvnLogPdf(y, new Array<number>(n).fill(0), K);
  const Kfs = gram(k, X, Xs);
  const alpha = spdSolve(K, col(y));
  const mean = transpose(Kfs).map((r) => r.reduce((s, v, i) => s + v * alpha[i]![0]!, 0));
  const cov = add(gram(k, Xs), matmul(transpose(Kfs), spdSolve(K, Kfs)), -1);
  return { lml, mean, cov };
}

/** Deterministic pseudo-random numbers in [0, 1) (a small LCG) for test inputs. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
