/**
 * Laplace approximation over all weights of a network (laplace-torch's
 * `subset_of_weights='all'`): every `Dense` and `Conv2D` layer `l` gets a Gaussian posterior
 * `N(theta_l*, (H_l + delta I)^{-1})` from the generalised Gauss-Newton of the whole network,
 * block-diagonal over layers, in a `diag` or `kron` (KFAC) structure:
 *
 * $$H = \sum_n J_n^T \Lambda_n J_n,\qquad \Lambda_n = \sum_c u_{n,c} u_{n,c}^T,\quad
 *   u_{n,c} = \sqrt{p_{n,c}}\,(e_c - p_n)\ \text{(softmax)},\quad e_c/\sigma\ \text{(Gaussian)} .$$
 *
 * With the layer input rows `a~_{n,t}` (`t` over the output positions of a convolution, one row
 * for Dense; bias as a trailing 1) and the back-propagated signals `g_{n,c,t} = J_{z}^T u_{n,c}`:
 *
 * - `diag`: `H_ll = sum_{n,c} (sum_t a~_{n,t} g_{n,c,t}^T)^2` (exact diagonal of the GGN);
 * - `kron`: `H_l ~ (1/(N T)) A (x) G`, `A = sum_{n,t} a~ a~^T`, `G = sum_{n,c,t} g g^T` (KFAC; KFC
 *   for convolutions with independent positions; exact for a Dense layer on one example).
 *
 * The marginal likelihood, its maximiser `delta` and the GLM predictive are those of the
 * last-layer version with the sums running over all layers; the GLM predictive
 * `f(x; theta*) + J(x)(theta - theta*)` is sampled with Jacobian-vector products
 * `J v = sum_l <lin_l(a_l; V_l) + v_b, d f / d z_l>` (one backward pass per output).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { nextSeed } from '../../../utils/seed.js';
import type { Predictor } from '../../predictors.js';
import { emptyCurvature, type LaplaceLikelihood } from './curvature.js';
import {
  augmentedRows,
  backprop,
  chainForward,
  layerChain,
  linearMap,
  preActivationShapes,
  signalRows,
  type LayerChain,
  type ParamLayer,
} from './layer_chain.js';
import {
  denseFromEigen,
  eigenCurvature,
  logDetPosterior,
  type EigenCurvature,
} from './posterior.js';

/** Hessian structures of the all-weights Laplace approximation. */
export type AllLayersStructure = 'diag' | 'kron';

/** Options of {@link allLayersLaplace}. */
export interface AllLayersLaplaceOptions {
  /** `'classification'` (softmax cross-entropy, default) or `'regression'` (Gaussian). */
  likelihood?: LaplaceLikelihood;
  /** `'kron'` (default, KFAC per layer) or `'diag'`. */
  hessianStructure?: AllLayersStructure;
  /** Initial isotropic prior precision `delta` (default 1). */
  priorPrecision?: number;
  /** Regression noise standard deviation (default 1). */
  sigmaNoise?: number;
  /** Inputs per pass (default 128). */
  batchSize?: number;
}

function checkPositive(v: number, name: string): void {
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new ArgumentError(name, `expected a finite number > 0, got ${v}`);
  }
}

function addInto(target: Float64Array, t: tf.Tensor): void {
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) target[i] = (target[i] as number) + (v[i] as number);
}

/** `[B, K]` rows all equal to the unit vector `e_c`. */
function unitRows(b: number, k: number, c: number): tf.Tensor2D {
  return tf.tidy(() => tf.tile(tf.slice(tf.eye(k), [c, 0], [1, k]), [b, 1]) as tf.Tensor2D);
}

/** Output cotangents `u_c` `[B, K]` whose outer products sum to `Lambda_n`. */
function lambdaFactors(
  out: tf.Tensor2D,
  likelihood: LaplaceLikelihood,
  sigmaNoise: number,
): tf.Tensor2D[] {
  const [b, k] = out.shape;
  if (likelihood === 'regression') {
    return Array.from({ length: k }, (_, c) =>
      tf.tidy(() => tf.mul(unitRows(b, k, c), 1 / sigmaNoise) as tf.Tensor2D),
    );
  }
  return tf.tidy(() => {
    const p = tf.softmax(out);
    return Array.from({ length: k }, (_, c) => {
      const e = unitRows(b, k, c);
      const pc = tf.slice(p, [0, c], [b, 1]);
      return tf.mul(tf.sqrt(pc), tf.sub(e, p)) as tf.Tensor2D;
    });
  });
}

/** A fitted all-weights Laplace approximation (host curvature; the model stays the caller's). */
export class AllLayersLaplace {
  /** Isotropic prior precision `delta` in use. */
  priorPrecision: number;
  readonly likelihood: LaplaceLikelihood;
  readonly structure: AllLayersStructure;
  /** Training examples the curvature was summed over. */
  readonly n: number;
  /** `log p(D | theta*)`. */
  readonly logLikelihood: number;
  /** Names of the layers with a posterior, in order. */
  readonly layerNames: string[];
  private readonly chain: LayerChain;
  private readonly eigs: EigenCurvature[];
  private readonly thetaSq: number;
  private readonly batchSize: number;

  /** @internal use {@link allLayersLaplace}. */
  constructor(args: {
    chain: LayerChain;
    eigs: EigenCurvature[];
    thetaSq: number;
    n: number;
    logLikelihood: number;
    options: Required<AllLayersLaplaceOptions>;
  }) {
    this.chain = args.chain;
    this.eigs = args.eigs;
    this.thetaSq = args.thetaSq;
    this.n = args.n;
    this.logLikelihood = args.logLikelihood;
    this.priorPrecision = args.options.priorPrecision;
    this.likelihood = args.options.likelihood;
    this.structure = args.options.hessianStructure;
    this.batchSize = args.options.batchSize;
    this.layerNames = args.chain.params.map((p) => p.layer.name);
  }

  /** Parameters with a posterior, `P = sum_l (D_l + 1) U_l`. */
  get numParams(): number {
    return this.eigs.reduce((s, e) => s + e.d1 * e.k, 0);
  }

  /**
   * Eigenvalues of the GGN block of layer `l` (host copy; `[D1 * U]`, ordered as the block's
   * eigenbasis: the diagonal itself for `diag`, `lambda^A_i lambda^G_j / (N T)` for `kron`).
   */
  curvatureEigenvalues(l: number): Float64Array {
    const e = this.eigs[l];
    if (e === undefined) {
      throw new ArgumentError('l', `expected a layer index in [0, ${this.eigs.length}), got ${l}`);
    }
    return Float64Array.from(e.lambda);
  }

  /**
   * Layer `l`'s block as a dense row-major `[P_l x P_l]` host matrix (kernel rows `[D, U]`
   * flattened, then the bias): the GGN `H_l`, the posterior precision `H_l + delta I` or the
   * posterior covariance `(H_l + delta I)^{-1}`. For inspection and small layers.
   */
  denseBlock(l: number, which: 'curvature' | 'precision' | 'covariance'): Float64Array {
    const e = this.eigs[l];
    if (e === undefined) {
      throw new ArgumentError('l', `expected a layer index in [0, ${this.eigs.length}), got ${l}`);
    }
    if (which === 'curvature') return denseFromEigen(e, 0, 1);
    if (which === 'precision') return denseFromEigen(e, this.priorPrecision, 1);
    if (which === 'covariance') return denseFromEigen(e, this.priorPrecision, -1);
    throw new ArgumentError(
      'which',
      `expected 'curvature', 'precision' or 'covariance', got '${String(which)}'`,
    );
  }

  /**
   * Laplace log marginal likelihood at prior precision `delta`:
   *
   * $$\log p(\mathcal D\mid\theta_*) - \tfrac12\Big[\sum_l \log\det(H_l + \delta I) - P\log\delta\Big]
   *   - \tfrac\delta2\lVert\theta_*\rVert^2 .$$
   */
  logMarginalLikelihood(priorPrecision: number = this.priorPrecision): number {
    checkPositive(priorPrecision, 'priorPrecision');
    const logDet = this.eigs.reduce((s, e) => s + logDetPosterior(e, priorPrecision), 0);
    const ratio = logDet - this.numParams * Math.log(priorPrecision);
    return this.logLikelihood - 0.5 * (ratio + priorPrecision * this.thetaSq);
  }

  /**
   * Set `delta` to the maximiser of {@link logMarginalLikelihood} (the unique root of
   * `P/delta - sum_i 1/(lambda_i + delta) - ||theta||^2`, bisection in `log delta` on
   * `[1e-8, 1e8]`); returns it.
   */
  optimizePriorPrecision(): number {
    const p = this.numParams;
    const grad = (d: number): number => {
      let s = 0;
      for (const e of this.eigs) for (const l of e.lambda) s += 1 / (l + d);
      return p / d - s - this.thetaSq;
    };
    let lo = Math.log(1e-8);
    let hi = Math.log(1e8);
    if (grad(Math.exp(hi)) > 0) lo = hi;
    else if (grad(Math.exp(lo)) < 0) hi = lo;
    for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
      const mid = 0.5 * (lo + hi);
      if (grad(Math.exp(mid)) > 0) lo = mid;
      else hi = mid;
    }
    this.priorPrecision = Math.exp(0.5 * (lo + hi));
    return this.priorPrecision;
  }

  /**
   * `S` draws of `theta - theta*` per layer, as `[S, D1, U]` tensors (kernel rows, then the
   * bias row): `Q (lambda + delta)^{-1/2} z`, with `Q = Q_A (x) Q_G` for `kron`.
   */
  private sampleDeviations(s: number, seed: number): tf.Tensor3D[] {
    return this.eigs.map((e, l) =>
      tf.tidy(() => {
        const z = tf.randomNormal([s, e.d1, e.k], 0, 1, 'float32', (seed + 7919 * l) >>> 0);
        const scale = tf.tensor2d(
          Float32Array.from(e.lambda, (v) => 1 / Math.sqrt(v + this.priorPrecision)),
          [e.d1, e.k],
        );
        const w = tf.mul(z, scale) as tf.Tensor3D;
        if (e.structure === 'diag') return w;
        const qa = tf.tensor2d(Float32Array.from(e.qa as Float64Array), [e.d1, e.d1]);
        const qg = tf.tensor2d(Float32Array.from(e.qg as Float64Array), [e.k, e.k]);
        const left = tf.matMul(tf.tile(tf.expandDims(qa, 0), [s, 1, 1]), w);
        return tf.matMul(left, tf.tile(tf.expandDims(qg, 0), [s, 1, 1]), false, true);
      }),
    );
  }

  /**
   * Jacobian-vector products `J(x) v` for one batch and every deviation sample: `[S, B, K]`.
   * `dev[l]` is `[S, D1, U]` as {@link sampleDeviations} returns.
   */
  private jvp(x: tf.Tensor, dev: tf.Tensor3D[]): { mean: tf.Tensor2D; jv: tf.Tensor3D } {
    return tf.tidy(() => {
      const fwd = chainForward(this.chain, x);
      const shapes = preActivationShapes(this.chain, fwd);
      const [b, k] = fwd.outputs.shape;
      const s = dev[0]?.shape[0] as number;
      // d f_c / d z_l for every output c, per layer as [B, T*U, K]
      const perClass = Array.from({ length: k }, (_, c) =>
        backprop(this.chain, x, unitRows(b, k, c), shapes),
      );
      let acc: tf.Tensor = tf.zeros([b, s, k]);
      this.chain.params.forEach((p, l) => {
        const sig = tf.stack(
          perClass.map((g) => tf.reshape(g[l] as tf.Tensor, [b, -1])),
          2,
        ) as tf.Tensor3D;
        const v = dev[l] as tf.Tensor3D; // [S, D1, U]
        const kernels = tf.slice(v, [0, 0, 0], [s, p.d, p.u]);
        // lin_l(a; V_s) for all samples at once: [B, T, S, U]
        let lin: tf.Tensor;
        if (p.kind === 'dense') {
          const w = tf.reshape(tf.transpose(kernels, [1, 0, 2]), [p.d, s * p.u]);
          lin = tf.reshape(tf.matMul(fwd.inputs[l] as tf.Tensor2D, w as tf.Tensor2D), [
            b,
            1,
            s,
            p.u,
          ]);
        } else {
          const [kh, kw] = p.kernelSize as [number, number];
          const cin = p.d / (kh * kw);
          const w = tf.reshape(tf.transpose(kernels, [1, 0, 2]), [kh, kw, cin, s * p.u]);
          const out = linearMap(p, fwd.inputs[l] as tf.Tensor, w);
          lin = tf.reshape(out, [b, -1, s, p.u]);
        }
        if (p.hasBias) {
          const bias = tf.reshape(tf.slice(v, [0, p.d, 0], [s, 1, p.u]), [1, 1, s, p.u]);
          lin = tf.add(lin, bias);
        }
        const t = lin.shape[1] as number;
        const linB = tf.reshape(tf.transpose(lin, [0, 2, 1, 3]), [b, s, t * p.u]) as tf.Tensor3D;
        acc = tf.add(acc, tf.matMul(linB, sig)); // [B, S, K]
      });
      return { mean: fwd.outputs, jv: tf.transpose(acc, [1, 0, 2]) as tf.Tensor3D };
    });
  }

  /**
   * `S` samples of the GLM predictive outputs `f(x; theta*) + J(x)(theta_s - theta*)`, `[S, N, K]`
   * (logits for classification, means for regression); the same parameter draws for every input.
   */
  sampleOutputs(x: tf.Tensor, numSamples: number, seed?: number): tf.Tensor3D {
    if (!(x instanceof tf.Tensor) || x.rank < 2) {
      throw new ArgumentError('x', 'expected a tensor of inputs [N, ...]');
    }
    if (!Number.isInteger(numSamples) || numSamples < 1) {
      throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
    }
    const dev = this.sampleDeviations(numSamples, nextSeed(seed));
    const parts: tf.Tensor[] = [];
    try {
      const n = x.shape[0] as number;
      for (let i = 0; i < n; i += this.batchSize) {
        const size = Math.min(this.batchSize, n - i);
        parts.push(
          tf.tidy(() => {
            const { mean, jv } = this.jvp(tf.slice(x, [i], [size]), dev);
            return tf.add(tf.expandDims(mean, 0), jv);
          }),
        );
      }
      return (
        parts.length === 1 ? (parts[0] as tf.Tensor).clone() : tf.concat(parts, 1)
      ) as tf.Tensor3D;
    } finally {
      tf.dispose([...dev, ...parts]);
    }
  }

  /** `S` Monte Carlo samples of the GLM predictive class probabilities `[S, N, K]`. */
  sampleProbs(x: tf.Tensor, numSamples: number, seed?: number): tf.Tensor3D {
    if (this.likelihood !== 'classification') {
      throw new ArgumentError(
        'likelihood',
        "class probabilities need likelihood 'classification'; use sampleOutputs",
      );
    }
    const f = this.sampleOutputs(x, numSamples, seed);
    try {
      return tf.softmax(f) as tf.Tensor3D;
    } finally {
      f.dispose();
    }
  }

  /** Predictive probabilities: the mean of `numSamples` (default 100) GLM samples, `[N, K]`. */
  predictProbs(x: tf.Tensor, numSamples = 100, seed?: number): tf.Tensor2D {
    const p = this.sampleProbs(x, numSamples, seed);
    try {
      return tf.mean(p, 0) as tf.Tensor2D;
    } finally {
      p.dispose();
    }
  }

  /** This posterior as a toolbox {@link Predictor} (GLM Monte Carlo samples). */
  predictor(seed?: number): Predictor {
    return { predictSamples: (x, s) => this.sampleProbs(x, s, seed) };
  }
}

function checkLabels(
  y: tf.Tensor | ArrayLike<number>,
  n: number,
  k: number,
  likelihood: LaplaceLikelihood,
): Float64Array {
  const v = Float64Array.from(y instanceof tf.Tensor ? y.dataSync() : y);
  const want = likelihood === 'classification' ? n : n * k;
  if (v.length !== want) {
    throw new ArgumentError(
      'y',
      `expected ${likelihood === 'classification' ? `${n} labels` : `targets [${n}, ${k}]`}, got ${v.length} values`,
    );
  }
  for (let i = 0; i < v.length; i++) {
    const t = v[i] as number;
    const ok =
      likelihood === 'classification' ? Number.isInteger(t) && t >= 0 && t < k : Number.isFinite(t);
    if (!ok) {
      throw new ArgumentError(
        'y',
        `expected ${likelihood === 'classification' ? `integer labels in [0, ${k})` : 'finite targets'}, got ${t} at ${i}`,
      );
    }
  }
  return v;
}

/**
 * Fit a Laplace approximation over all Dense and Conv2D weights of a trained chain model
 * (laplace-torch's `Laplace(model, likelihood, subset_of_weights='all', hessian_structure=...)`).
 * Other trainable weights (e.g. batch normalisation) stay at their trained values.
 *
 * @param model trained `tf.LayersModel`, a single chain of layers ending in logits / means `[N, K]`.
 * @param x training inputs `[N, ...]`; @param y `N` integer labels or targets `[N, K]`.
 * @param options `likelihood`, `hessianStructure` (`kron` | `diag`), `priorPrecision`,
 *   `sigmaNoise`, `batchSize`.
 * @example
 * ```ts
 * const la = toolbox.allLayersLaplace(net, xTrain, yTrain, { hessianStructure: 'kron' });
 * la.optimizePriorPrecision();
 * const probs = la.sampleProbs(xTest, 30); // [30, N, K], GLM predictive
 * ```
 */
export function allLayersLaplace(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor | ArrayLike<number>,
  options: AllLayersLaplaceOptions = {},
): AllLayersLaplace {
  const o: Required<AllLayersLaplaceOptions> = {
    likelihood: options.likelihood ?? 'classification',
    hessianStructure: options.hessianStructure ?? 'kron',
    priorPrecision: options.priorPrecision ?? 1,
    sigmaNoise: options.sigmaNoise ?? 1,
    batchSize: options.batchSize ?? 128,
  };
  if (o.likelihood !== 'classification' && o.likelihood !== 'regression') {
    throw new ArgumentError(
      'likelihood',
      `expected 'classification' or 'regression', got '${String(o.likelihood)}'`,
    );
  }
  if (o.hessianStructure !== 'diag' && o.hessianStructure !== 'kron') {
    throw new ArgumentError(
      'hessianStructure',
      `expected 'diag' or 'kron' over all layers ('full' is for the last layer only), got '${String(o.hessianStructure)}'`,
    );
  }
  checkPositive(o.priorPrecision, 'priorPrecision');
  checkPositive(o.sigmaNoise, 'sigmaNoise');
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new ArgumentError('batchSize', `expected a positive integer, got ${o.batchSize}`);
  }
  const chain = layerChain(model);
  if (!(x instanceof tf.Tensor) || x.rank < 2) {
    throw new ArgumentError('x', 'expected a tensor [N, ...]');
  }
  const n = x.shape[0] as number;
  if (n < 1) throw new ArgumentError('x', 'expected at least one training input');
  const k = model.outputs[0]?.shape[1];
  if (typeof k !== 'number' || model.outputs[0]?.shape.length !== 2) {
    throw new ArgumentError('model', 'expected outputs [batch, K]');
  }
  const yHost = checkLabels(y, n, k, o.likelihood);
  const sums = chain.params.map((p) =>
    emptyCurvature(o.hessianStructure, p.d + (p.hasBias ? 1 : 0), p.u),
  );
  const positions = chain.params.map(() => 0);
  const thetaSq = chain.params.reduce(
    (s, p) =>
      s +
      tf.tidy(() =>
        p.layer.trainableWeights.reduce(
          (a, w) => a + (tf.sum(tf.square(w.read())).dataSync()[0] as number),
          0,
        ),
      ),
    0,
  );
  let logLik = 0;
  for (let i = 0; i < n; i += o.batchSize) {
    const size = Math.min(o.batchSize, n - i);
    tf.tidy(() => {
      const xb = tf.slice(x, [i], [size]);
      const fwd = chainForward(chain, xb);
      const shapes = preActivationShapes(chain, fwd);
      const rows = chain.params.map((p: ParamLayer, l) =>
        augmentedRows(p, fwd.inputs[l] as tf.Tensor),
      );
      if (o.hessianStructure === 'kron') {
        chain.params.forEach((_, l) => {
          const r = rows[l] as tf.Tensor3D;
          const flat = tf.reshape(r, [-1, r.shape[2]]) as tf.Tensor2D;
          addInto((sums[l] as { a: Float64Array }).a, tf.matMul(flat, flat, true, false));
          positions[l] = (positions[l] as number) + flat.shape[0];
        });
      }
      for (const u of lambdaFactors(fwd.outputs, o.likelihood, o.sigmaNoise)) {
        const gs = backprop(chain, xb, u, shapes);
        chain.params.forEach((p, l) => {
          const sr = signalRows(gs[l] as tf.Tensor, p.u);
          const s = sums[l] as { a: Float64Array; g?: Float64Array };
          if (o.hessianStructure === 'diag') {
            const perExample = tf.matMul(rows[l] as tf.Tensor3D, sr, true, false); // [B, D1, U]
            addInto(s.a, tf.sum(tf.square(perExample), 0));
          } else {
            const flat = tf.reshape(sr, [-1, p.u]) as tf.Tensor2D;
            addInto(s.g as Float64Array, tf.matMul(flat, flat, true, false));
          }
        });
      }
      const yb = yHost.subarray(
        i * (o.likelihood === 'classification' ? 1 : k),
        (i + size) * (o.likelihood === 'classification' ? 1 : k),
      );
      if (o.likelihood === 'classification') {
        const lp = tf.logSoftmax(fwd.outputs);
        const oh = tf.oneHot(tf.tensor1d(Int32Array.from(yb), 'int32'), k);
        logLik += tf.sum(tf.mul(lp, oh)).dataSync()[0] as number;
      } else {
        const r = tf.sub(fwd.outputs, tf.tensor2d(Float32Array.from(yb), [size, k]));
        const s2 = o.sigmaNoise * o.sigmaNoise;
        const sse = tf.sum(tf.square(r)).dataSync()[0] as number;
        logLik += (-0.5 * sse) / s2 - 0.5 * size * k * Math.log(2 * Math.PI * s2);
      }
    });
  }
  const eigs = sums.map((s, l) => {
    // kron: the eigenvalues are lambda^A lambda^G / n with n = N T (rows summed into A)
    s.n = o.hessianStructure === 'kron' ? (positions[l] as number) : n;
    return eigenCurvature(s);
  });
  return new AllLayersLaplace({ chain, eigs, thetaSq, n, logLikelihood: logLik, options: o });
}
