/**
 * The construction shared by the Wishart-type families (`Wishart`, `InverseWishart`): degrees of
 * freedom `nu > p - 1` and one `p x p` scale matrix `S = L L^T`, kept as `df` and the lower
 * Cholesky factor `L`; event shape `[p, p]`, support the symmetric positive-definite matrices.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions, type TensorInput } from './distribution.js';
import { lowerCholesky, positiveDefinite, type Constraint } from '../constraints/constraints.js';
import { allWithin, checkValues, peekValues } from '../utils/tensor.js';
import { squareSize } from '../utils/linalg.js';

/** @internal Throw naming `df` unless every entry exceeds `p - 1` (and is finite). */
export function checkDf(df: tf.Tensor, p: number): void {
  if (!allWithin(peekValues(df), p - 1, Number.MAX_VALUE, true)) {
    checkValues(
      df,
      'df',
      (v) => v > p - 1 && Number.isFinite(v),
      `a finite value > ${p - 1} (dim - 1)`,
    );
  }
}

/**
 * @internal How a Wishart-type family reads its scale argument: the matrix `raw` given under
 * `key`, whether it is the lower Cholesky factor (`tril`), and otherwise the map `toTril` from it
 * to that factor. Throws an `ArgumentError` on a scale argument it cannot read.
 */
export interface DfScaleSpec {
  /** The matrix as given. */
  readonly raw: TensorInput;
  /** Its argument name (in messages and as the parameter's name). */
  readonly key: string;
  /** Whether it is the lower Cholesky factor itself. */
  readonly tril: boolean;
  /** The lower Cholesky factor of the scale from the matrix (used where `tril` is false). */
  readonly toTril: (m: tf.Tensor) => tf.Tensor;
}

/**
 * @internal The construction shared by the Wishart-type families: degrees of freedom `nu` and one
 * `p x p` scale matrix, read, broadcast and (with `validateArgs`) checked — `nu > p - 1`, and the
 * matrix lower triangular with a positive diagonal (`tril`) or symmetric positive definite —
 * kept as `df` (batch) and the lower Cholesky factor `scaleTril` of the scale; event shape
 * `[p, p]`, support the symmetric positive-definite matrices.
 */
export abstract class DfScaleDistribution extends Distribution {
  /** Degrees of freedom `nu > p - 1` (batch). */
  readonly df: tf.Tensor;
  /**
   * The lower Cholesky factor of the scale (`L` of `Sigma = L L^T` for the Wishart, `U` of
   * `Psi = U U^T` for the inverse Wishart), shape `[..., p, p]`.
   */
  readonly scaleTril: tf.Tensor;
  protected readonly batch: number[];
  protected readonly dim: number;

  /**
   * @param df degrees of freedom, `nu > p - 1`.
   * @param readScale the family's reading of its scale argument (run after the options' check).
   * @param options validation flag and name.
   */
  constructor(df: TensorInput, readScale: () => DfScaleSpec, options: DistributionOptions) {
    super(options);
    let spec: DfScaleSpec;
    try {
      spec = readScale();
    } catch (e) {
      this.dispose();
      throw e;
    }
    const { df: dfT, m, p, batch } = this.readDfAndScale(df, spec.raw, spec.key, spec.tril);
    this.dim = p;
    this.df = dfT;
    this.batch = batch;
    this.scaleTril = spec.tril ? m : this.own(spec.toTril(m));
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [this.dim, this.dim];
  }
  /** Support: symmetric positive-definite matrices. */
  override get support(): Constraint {
    return positiveDefinite;
  }
  /** `df` broadcast to `[...batch, 1, 1]` (to scale matrices). */
  protected dfMatrix(): tf.Tensor {
    return tf.reshape(tf.broadcastTo(this.df, this.batch), [...this.batch, 1, 1]);
  }

  /**
   * Read `df` and the scale matrix `raw` named `key`, freeing what was made when a check fails.
   * @returns the `df` and matrix parameters, the matrix size `p` and the batch shape.
   */
  protected readDfAndScale(
    df: TensorInput,
    raw: TensorInput,
    key: string,
    tril: boolean,
  ): { df: tf.Tensor; m: tf.Tensor; p: number; batch: number[] } {
    const m = this.param(raw, key);
    let p: number;
    try {
      p = squareSize(m, key);
    } catch (e) {
      this.dispose();
      throw e;
    }
    if (p < 1) throw this.constructionError(key, 'expected matrices of size p >= 1');
    const dfT = this.param(df, 'df');
    const batch = this.broadcastParams({ df: dfT.shape, [key]: m.shape.slice(0, -2) });
    if (this.validateArgs) {
      try {
        checkDf(dfT, p);
      } catch (e) {
        this.dispose();
        throw e;
      }
      if (!(tril ? lowerCholesky : positiveDefinite).checkAll(m)) {
        throw this.constructionError(
          key,
          tril
            ? 'expected lower-triangular matrices with a positive diagonal'
            : 'expected symmetric positive-definite matrices',
        );
      }
    }
    return { df: dfT, m, p, batch };
  }
}
