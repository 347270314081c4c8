/**
 * The prior precision of a Laplace posterior (laplace-torch's `prior_precision`): one isotropic
 * `delta`, one per block (layer, `prior_structure='layerwise'`) or one per parameter (`'diag'`),
 * the posterior precision of block `b` being `H_b + delta I`, `H_b + delta_b I` or
 * `H_b + diag(delta_b)`; and the MAP parameters per block on the host, which the marginal
 * likelihood's prior terms need.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { checkPositive } from './checks.js';
import { numLaplaceParams } from './marginal_likelihood.js';
import { withParamPrior, type EigenCurvature } from './posterior.js';

/** The prior precisions of a Laplace posterior over its curvature blocks. */
export abstract class LaplacePrior {
  protected delta = 1;
  /** Per-block prior precisions, when set (`layerPriorPrecision`); else `delta` for every block. */
  protected layerDeltas: number[] | undefined;
  /** Per-parameter prior precisions, per block, when set (`paramPriorPrecision`). */
  protected paramDeltas: Float64Array[] | undefined;
  /** The blocks' posteriors `H_b + diag(delta_b)` as eigen forms, for `paramDeltas`. */
  private paramBlocks: EigenCurvature[] | undefined;
  private thetaCache: Float64Array[] | undefined;
  private thetaSqCache: number[] | undefined;
  protected readonly blocks: readonly EigenCurvature[];

  /**
   * @param blocks curvature blocks (one per layer with a posterior); @param prior a number, `B`
   *   per-block or `P` per-parameter precisions (checked by the setters).
   */
  protected constructor(blocks: readonly EigenCurvature[], prior: number | readonly number[]) {
    this.blocks = blocks;
    if (typeof prior === 'number') this.priorPrecision = prior;
    else if (prior.length === blocks.length) this.layerPriorPrecision = [...prior];
    else this.paramPriorPrecision = [...prior];
  }

  /**
   * The MAP weights of every block as a flat `[D1 * K]` tensor each, ordered `(d, k)`: the kernel
   * `[D, K]` rows (a convolution's kernel flattened to `[kh kw cin, cout]`), then the bias row.
   */
  protected abstract mapWeights(): tf.Tensor1D[];

  /** Parameters with a posterior, `P = sum_b (D_b + 1) K_b`. */
  get numParams(): number {
    return numLaplaceParams(this.blocks);
  }

  /** A function putting back the prior precisions in use now. */
  protected priorSnapshot(): () => void {
    const delta = this.delta;
    const layer = this.layerDeltas;
    const param = this.paramDeltas;
    return () => {
      this.priorPrecision = delta;
      if (layer !== undefined) this.layerPriorPrecision = layer;
      if (param !== undefined) this.paramPriorPrecision = param.flatMap((v) => [...v]);
    };
  }

  /**
   * Isotropic prior precision `delta` in use (the prior `theta ~ N(0, I / delta)`). Setting it
   * (finite, `> 0`) gives every parameter this precision, dropping per-layer and per-parameter
   * precisions; while per-layer ({@link layerPriorPrecision}) or per-parameter
   * ({@link paramPriorPrecision}) precisions are in use, it keeps the last isotropic value and is
   * not used: read those (laplace-torch's `prior_precision` returns whichever tensor is set).
   */
  get priorPrecision(): number {
    return this.delta;
  }

  set priorPrecision(v: number) {
    checkPositive(v, 'priorPrecision');
    this.delta = v;
    this.layerDeltas = undefined;
    this.clearParamDeltas();
  }

  /**
   * The prior precision of every parameter, `[delta_1, ..., delta_P]` (laplace-torch's
   * `prior_precision` of length `P`, i.e. `prior_precision_diag`), ordered as `sample`'s
   * columns (blocks in order; per block the kernel `[D, K]` rows, then the bias): the prior is
   * `theta_i ~ N(0, 1/delta_i)` and the posterior precision of block `b`
   *
   * $$\Lambda_b = H_b + \operatorname{diag}(\delta_b),$$
   *
   * exact for the `diag` and `full` structures (a `full` block is eigendecomposed again, `O(P_b^3)`,
   * when set). Reads the scalar or per-layer precisions expanded when those are in use. Setting it
   * (an array of `P` finite numbers `> 0`) replaces them.
   *
   * @throws ArgumentError naming `priorPrecision` on a wrong length or value, and for `kron`: a
   *   Kronecker factor has no per-parameter prior term (`diag(delta)` is not `A (x) G`), so, as
   *   laplace-torch's `KronLaplace`, it takes a number or one precision per layer.
   */
  get paramPriorPrecision(): number[] {
    const out: number[] = [];
    this.blocks.forEach((e, b) => {
      const d = this.paramDeltas?.[b];
      for (let i = 0; i < e.d1 * e.k; i++) {
        out.push(d !== undefined ? (d[i] as number) : (this.layerDeltas?.[b] ?? this.delta));
      }
    });
    return out;
  }

  set paramPriorPrecision(v: number[]) {
    const d = this.checkParamDeltas(v);
    this.layerDeltas = undefined;
    this.paramDeltas = d;
    this.paramBlocks = this.blocks.map((e, b) => withParamPrior(e, d[b] as Float64Array));
  }

  /**
   * The prior precision of every block (layer with a posterior), `[delta_1, ..., delta_B]`
   * (laplace-torch's layerwise `prior_precision`; one block for the last layer): the prior is
   * `theta_b ~ N(0, I / delta_b)` and the posterior `N(theta_*, (H_b + delta_b I)^{-1})` per block.
   * Reads `delta` repeated when isotropic. Set it to an array of `B` finite numbers `> 0`.
   */
  get layerPriorPrecision(): number[] {
    return this.blocks.map((_, b) => this.layerDeltas?.[b] ?? this.delta);
  }

  set layerPriorPrecision(v: number[]) {
    this.layerDeltas = this.checkDeltas(v);
    this.clearParamDeltas();
  }

  /**
   * The isotropic prior precision to add to {@link blockOf}`(b)`'s eigenvalues: block `b`'s
   * precision, or `0` under per-parameter precisions (already in the block).
   */
  protected deltaOf(b: number): number {
    if (this.paramBlocks !== undefined) return 0;
    return this.layerDeltas?.[b] ?? this.delta;
  }

  /**
   * Block `b`'s posterior eigen form: the curvature `H_b` (posterior precision
   * `H_b + deltaOf(b) I`), or `H_b + diag(delta_b)` itself under per-parameter precisions.
   */
  protected blockOf(b: number): EigenCurvature {
    return (this.paramBlocks ?? this.blocks)[b] as EigenCurvature;
  }

  /** Every block's {@link blockOf}. */
  protected posteriorBlocks(): readonly EigenCurvature[] {
    return this.paramBlocks ?? this.blocks;
  }

  protected clearParamDeltas(): void {
    this.paramDeltas = undefined;
    this.paramBlocks = undefined;
  }

  /** Per-parameter precisions checked (`P` finite values `> 0`, no `kron` block), split per block. */
  protected checkParamDeltas(v: readonly number[]): Float64Array[] {
    const p = this.numParams;
    if (!Array.isArray(v) || v.length !== p) {
      throw new ArgumentError(
        'priorPrecision',
        `expected a number, ${this.blocks.length} per-layer or ${p} per-parameter precisions, got ${Array.isArray(v) ? `${v.length} values` : String(v)}`,
      );
    }
    if (this.blocks.some((e) => e.structure === 'kron')) {
      throw new ArgumentError(
        'priorPrecision',
        `${p} per-parameter precisions need hessianStructure 'diag' or 'full'; 'kron' takes a number or ${this.blocks.length} per-layer precisions (as laplace-torch's KronLaplace)`,
      );
    }
    v.forEach((d, i) => checkPositive(d, `priorPrecision[${i}]`));
    let at = 0;
    return this.blocks.map((e) => {
      const n = e.d1 * e.k;
      const out = Float64Array.from(v.slice(at, at + n));
      at += n;
      return out;
    });
  }

  protected checkDeltas(v: readonly number[]): number[] {
    if (!Array.isArray(v) || v.length !== this.blocks.length) {
      throw new ArgumentError(
        'priorPrecision',
        `expected a number, ${this.blocks.length} per-layer or ${this.numParams} per-parameter precisions, got ${Array.isArray(v) ? `${v.length} values` : String(v)}`,
      );
    }
    v.forEach((d, b) => checkPositive(d, `priorPrecision[${b}]`));
    return [...v];
  }

  /** `||theta_{*,b}||^2` per block (host, computed once). */
  protected blockThetaSq(): number[] {
    if (this.thetaSqCache === undefined) {
      this.thetaSqCache = this.blockTheta().map((v) => {
        let s = 0;
        for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
        return s;
      });
    }
    return this.thetaSqCache;
  }

  /** `theta_{*,b}` per block on the host (float64 copies, computed once). */
  protected blockTheta(): Float64Array[] {
    if (this.thetaCache === undefined) {
      const theta = this.mapWeights();
      try {
        this.thetaCache = theta.map((t) => Float64Array.from(t.dataSync()));
      } finally {
        tf.dispose(theta);
      }
    }
    return this.thetaCache;
  }
}
