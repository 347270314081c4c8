/**
 * The conditional autoregressive (CAR) distribution of areal data (NumPyro's `CAR`): a
 * multivariate normal over the `n` nodes of a graph with symmetric adjacency `W` (zero diagonal,
 * `w_ij >= 0`, no isolated node), degrees `D = diag(sum_j w_ij)`, correlation `alpha` and
 * conditional precision `tau`:
 *
 * $$X \sim \mathcal N\big(\mu,\ Q^{-1}\big),\qquad Q = \tau\,(D - \alpha W),\qquad
 *   X_i \mid X_{-i} \sim \mathcal N\Big(\mu_i + \alpha\sum_j \frac{w_{ij}}{d_i}(x_j - \mu_j),\
 *   \frac1{\tau d_i}\Big).$$
 *
 * With `lambda_i` the eigenvalues of `D^{-1/2} W D^{-1/2}` (in `[-1, 1]`, the largest 1; computed
 * once at construction in float64 by `ml-matrix`),
 *
 * $$\log\det Q = n\log\tau + \sum_i\log d_i + \sum_i\log(1 - \alpha\lambda_i),$$
 *
 * $$\log p(x) = -\tfrac n2\log 2\pi + \tfrac12\log\det Q
 *   - \tfrac\tau2\Big(\sum_i d_i r_i^2 - \alpha\, r^\top W r\Big),\quad r = x - \mu,$$
 *
 * differentiable in `mu`, `alpha`, `tau` and `x`; `alpha` in `(-1, 1)` (NumPyro's constraint, which
 * keeps `Q` positive definite). Draws are reparameterized:
 * `x = mu + tau^{-1/2} D^{-1/2} U (1 - alpha Lambda)^{-1/2} z`, `z ~ N(0, I)`, with
 * `D^{-1/2} W D^{-1/2} = U Lambda U^T`; mean `mu`, variance
 * `Var[X_i] = (tau d_i)^{-1} sum_j U_ij^2 / (1 - alpha lambda_j)`. `W` is held dense (NumPyro's
 * `is_sparse` only changes how it multiplies).
 */
import * as tf from '@tensorflow/tfjs';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { ArgumentError } from '../utils/errors.js';
import { log1p } from '../utils/log1p.js';
import { checkValues, toFloat, type TensorInput } from '../utils/tensor.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import './expanded.js';
import './independent.js';

/** The graph quantities of a CAR, computed once on the host in float64. */
interface Graph {
  n: number;
  degrees: number[];
  eigenvalues: number[];
  /** Eigenvectors as rows of `U` (`U[i][j]`, column `j` the eigenvector of `lambda_j`). */
  vectors: number[][];
}

/** Check `W` (square, symmetric, `>= 0`, zero diagonal, no isolated node) and decompose it. */
function readGraph(w: number[][]): Graph {
  const n = w.length;
  const bad = (msg: string): ArgumentError => new ArgumentError('adjMatrix', msg);
  if (n < 1 || w.some((row) => row.length !== n)) {
    throw bad(
      `expected a square [n, n] matrix with n >= 1, got ${n} rows of lengths ${[...new Set(w.map((r) => r.length))].join('/')}`,
    );
  }
  const degrees = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = w[i]![j]!;
      if (!(Number.isFinite(v) && v >= 0))
        throw bad(`expected finite entries >= 0, got ${v} at [${i},${j}]`);
      if (i === j && v !== 0) throw bad(`expected a zero diagonal, got ${v} at [${i},${i}]`);
      if (v !== w[j]![i])
        throw bad(`expected a symmetric matrix, [${i},${j}] = ${v} but [${j},${i}] = ${w[j]![i]}`);
      degrees[i]! += v;
    }
    if (!(degrees[i]! > 0))
      throw bad(`node ${i} has no neighbour (a zero row): D would be singular`);
  }
  const s = degrees.map((d) => 1 / Math.sqrt(d));
  const scaled = w.map((row, i) => row.map((v, j) => v * s[i]! * s[j]!));
  const evd = new EigenvalueDecomposition(new Matrix(scaled), { assumeSymmetric: true });
  return {
    n,
    degrees,
    eigenvalues: evd.realEigenvalues,
    vectors: evd.eigenvectorMatrix.to2DArray(),
  };
}

/**
 * CAR distribution over `n` nodes.
 *
 * @example
 * ```ts
 * // a path graph of 3 nodes
 * const W = [[0, 1, 0], [1, 0, 1], [0, 1, 0]];
 * const d = new CAR(0, 0.9, 2, W);
 * d.logProb([0.1, -0.2, 0.4]); // log N(x; 0, (2 (D - 0.9 W))^{-1})
 * d.rsample([5]); // shape [5, 3], differentiable in loc, correlation, conditionalPrecision
 * ```
 */
export class CAR extends Distribution {
  /** Mean `mu`, shape `[...B, n]`, `[...B, 1]` or a scalar. */
  readonly loc: tf.Tensor;
  /** Correlation `alpha` in `(-1, 1)`, batch-shaped. */
  readonly correlation: tf.Tensor;
  /** Conditional precision `tau > 0`, batch-shaped. */
  readonly conditionalPrecision: tf.Tensor;
  /** The adjacency matrix `W`, `[n, n]`. */
  readonly adjMatrix: tf.Tensor;
  private readonly n: number;
  private readonly batch: number[];
  private readonly degrees: tf.Tensor;
  private readonly eigenvalues: tf.Tensor;
  private readonly vectors: tf.Tensor;
  private readonly sumLogDegrees: number;

  /**
   * @param loc the mean, shape `[...B, n]` (or `[...B, 1]`, or a number), finite.
   * @param correlation `alpha`, in the open interval `(-1, 1)`.
   * @param conditionalPrecision `tau`, finite and > 0.
   * @param adjMatrix `W`, `[n, n]`: symmetric, entries `>= 0`, zero diagonal, no zero row.
   * @param options validation flag and name.
   * @throws ArgumentError naming `adjMatrix`, `loc`, `correlation` or `conditionalPrecision`, or
   *   the parameters whose batch shapes do not broadcast.
   */
  constructor(
    loc: TensorInput,
    correlation: TensorInput,
    conditionalPrecision: TensorInput,
    adjMatrix: TensorInput,
    options: DistributionOptions = {},
  ) {
    super(options);
    const w = toFloat(adjMatrix, 'adjMatrix');
    let rows: number[][];
    try {
      if (w.rank !== 2) {
        throw new ArgumentError(
          'adjMatrix',
          `expected a [n, n] matrix, got shape [${w.shape.join(',')}]`,
        );
      }
      rows = w.arraySync() as number[][];
    } catch (e) {
      if (w !== adjMatrix) w.dispose();
      throw e;
    }
    let graph: Graph;
    try {
      graph = readGraph(rows);
    } catch (e) {
      if (w !== adjMatrix) w.dispose();
      throw e;
    }
    this.adjMatrix = w === adjMatrix ? w : this.own(w);
    this.n = graph.n;
    this.loc = this.param(loc, 'loc');
    this.correlation = this.param(correlation, 'correlation');
    this.conditionalPrecision = this.param(conditionalPrecision, 'conditionalPrecision');
    this.checkFinite(this.loc, 'loc');
    this.checkPositive(this.conditionalPrecision, 'conditionalPrecision');
    if (this.validateArgs) {
      try {
        checkValues(this.correlation, 'correlation', (v) => v > -1 && v < 1, 'a value in (-1, 1)');
      } catch (e) {
        this.dispose();
        throw e;
      }
    }
    const ls = this.loc.shape;
    if (ls.length > 0 && ls[ls.length - 1] !== this.n && ls[ls.length - 1] !== 1) {
      throw this.constructionError(
        'loc',
        `expected a last dim of ${this.n} (the nodes) or 1, got shape [${ls.join(',')}]`,
      );
    }
    this.batch = this.broadcastParams({
      loc: ls.slice(0, -1),
      correlation: this.correlation.shape,
      conditionalPrecision: this.conditionalPrecision.shape,
    });
    this.degrees = this.own(tf.tensor1d(graph.degrees));
    this.eigenvalues = this.own(tf.tensor1d(graph.eigenvalues));
    this.vectors = this.own(tf.tensor2d(graph.vectors));
    this.sumLogDegrees = graph.degrees.reduce((a, d) => a + Math.log(d), 0);
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [this.n];
  }
  /** `independent(real, 1)`. */
  override get support(): Constraint {
    return independent(real, 1);
  }

  /** A batch-shaped parameter with a trailing 1 (to scale the node dim). */
  private perEvent(t: tf.Tensor): tf.Tensor {
    return tf.expandDims(t, -1);
  }
  /** `sum_i log(1 - alpha lambda_i)`, batch-shaped. */
  private logDetCorrelation(): tf.Tensor {
    return tf.sum(log1p(tf.neg(tf.mul(this.perEvent(this.correlation), this.eigenvalues))), -1);
  }

  protected _logProb(x: tf.Tensor): tf.Tensor {
    const n = this.n;
    const r = tf.sub(x, this.loc);
    const flat = tf.reshape(r, [-1, n]);
    const rw = tf.reshape(tf.matMul(flat, this.adjMatrix), r.shape);
    const dr2 = tf.sum(tf.mul(this.degrees, tf.square(r)), -1);
    const rWr = tf.sum(tf.mul(r, rw), -1);
    const quad = tf.sub(dr2, tf.mul(this.correlation, rWr));
    const logDet = tf.add(
      tf.add(tf.mul(n, tf.log(this.conditionalPrecision)), this.sumLogDegrees),
      this.logDetCorrelation(),
    );
    return tf.sub(
      tf.mul(0.5, tf.sub(logDet, tf.mul(this.conditionalPrecision, quad))),
      0.5 * n * Math.log(2 * Math.PI),
    );
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batch, this.n];
    if (full.some((d) => d === 0)) return tf.zeros(full);
    const z = tf.randomNormal(full, 0, 1, 'float32', seed);
    const s = tf.rsqrt(tf.sub(1, tf.mul(this.perEvent(this.correlation), this.eigenvalues)));
    const y = tf.mul(z, s);
    const uy = tf.reshape(tf.matMul(tf.reshape(y, [-1, this.n]), this.vectors, false, true), full);
    const scale = tf.div(tf.rsqrt(this.degrees), tf.sqrt(this.perEvent(this.conditionalPrecision)));
    return tf.add(this.loc, tf.mul(scale, uy));
  }
  protected override _mean(): tf.Tensor {
    return tf.broadcastTo(this.loc, [...this.batch, this.n]);
  }
  /** `Var[X_i] = (tau d_i)^{-1} sum_j U_ij^2 / (1 - alpha lambda_j)`. */
  protected override _variance(): tf.Tensor {
    const inv = tf.reciprocal(tf.sub(1, tf.mul(this.perEvent(this.correlation), this.eigenvalues)));
    const flat = tf.reshape(tf.broadcastTo(inv, [...this.batch, this.n]), [-1, this.n]);
    const v = tf.matMul(flat, tf.square(this.vectors), false, true); // sum_j inv_j U_ij^2
    const scaled = tf.div(
      tf.reshape(v, [...this.batch, this.n]),
      tf.mul(this.degrees, this.perEvent(this.conditionalPrecision)),
    );
    return tf.broadcastTo(scaled, [...this.batch, this.n]);
  }
}
