/**
 * The sine bivariate von Mises distribution on the torus (Singh, Hnizdo & Demchuk 2002; NumPyro's
 * `SineBivariateVonMises`, used for protein dihedral angles), over a pair of angles
 * `(phi, psi)`, event shape `[2]`:
 *
 * $$p(\phi,\psi) = \frac1C\exp\!\big(\kappa_1\cos(\phi-\mu) + \kappa_2\cos(\psi-\nu)
 *   + \lambda\sin(\phi-\mu)\sin(\psi-\nu)\big),$$
 *
 * $$C = 4\pi^2\sum_{m=0}^{\infty}\binom{2m}{m}\Big(\frac{\lambda^2}{4\kappa_1\kappa_2}\Big)^m
 *   I_m(\kappa_1)\,I_m(\kappa_2),$$
 *
 * with `kappa_1, kappa_2 > 0` and the correlation `lambda` any real (NumPyro's
 * `weighted_correlation` `rho` gives `lambda = rho sqrt(kappa_1 kappa_2)`); the density is unimodal
 * for `lambda^2 < kappa_1 kappa_2` and bimodal beyond. `log C` is differentiable in all three:
 * the series in `m` is summed in log space until its terms fall below `1e-10` of the first (at
 * least NumPyro's 50 terms), each `log I_m(kappa)` from its power series
 * `sum_k (kappa/2)^{2k+m} / (k! (k+m)!)` in log space.
 *
 * Sampling is exact and by rejection, as NumPyro's, with another envelope: the marginal of
 * `phi' = phi - mu`, `p(phi') ∝ exp(kappa_1 cos phi') I_0(sqrt(kappa_2^2 + lambda^2 sin^2 phi'))`,
 * is drawn by rejection from a piecewise-constant envelope on a grid of `[-pi, pi]` (the log-density
 * at the cell ends plus `M_2 h^2 / 8`, `M_2 = kappa_1 + lambda^2/2 + lambda^4/16` bounding its
 * second derivative; acceptance above 98%), then
 * `psi' | phi' ~ VonMises(atan2(lambda sin phi', kappa_2), sqrt(kappa_2^2 + lambda^2 sin^2 phi'))`
 * (Best–Fisher), all in float64 on the host; angles are wrapped into `[-pi, pi)`. Draws are not
 * reparameterized. `mean()` is the pair of locations (the circular means, as NumPyro).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { checkOptionKeys } from '../utils/options.js';
import { makeRng } from '../utils/seed.js';
import { broadcastTo, peekValues, type TensorInput } from '../utils/tensor.js';
import { circular, independent, type Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { lgamma64 } from './host_sampling.js';
import { logBesselI0Host, vonMisesDraw } from './von_mises.js';
import './expanded.js';
import './independent.js';

/** The correlation of {@link SineBivariateVonMises}: `lambda` itself or NumPyro's weighted form. */
export type SineCorrelation =
  | { correlation: TensorInput; weightedCorrelation?: undefined }
  | { weightedCorrelation: TensorInput; correlation?: undefined };

/** The fewest terms of the series of `C` (NumPyro's fixed count). */
const MIN_TERMS = 50;
/** The most terms of the series of `C`. */
const MAX_TERMS = 2000;
/** Relative size of the last term kept in the series of `C`. */
const SERIES_TOL = 1e-10;
/** Largest envelope slack `M_2 h^2 / 8` of the phi-marginal rejection sampler. */
const ENVELOPE_SLACK = 0.02;

/**
 * Sine bivariate von Mises distribution with locations `phiLoc` (mu), `psiLoc` (nu),
 * concentrations `phiConcentration` (kappa_1), `psiConcentration` (kappa_2) and a correlation.
 *
 * @example
 * ```ts
 * const d = new SineBivariateVonMises(0, 1, 2, 3, { correlation: 1.5 });
 * d.logProb([0.3, 0.8]); // 2 cos(0.3) + 3 cos(-0.2) + 1.5 sin(0.3) sin(-0.2) - log C
 * d.sample([100]); // shape [100, 2], angles in [-pi, pi)
 * ```
 */
export class SineBivariateVonMises extends Distribution {
  /** Location of the first angle, mu. */
  readonly phiLoc: tf.Tensor;
  /** Location of the second angle, nu. */
  readonly psiLoc: tf.Tensor;
  /** Concentration of the first angle, kappa_1 > 0. */
  readonly phiConcentration: tf.Tensor;
  /** Concentration of the second angle, kappa_2 > 0. */
  readonly psiConcentration: tf.Tensor;
  /** The correlation lambda (any real). */
  readonly correlation: tf.Tensor;
  private readonly batch: number[];

  /**
   * @param phiLoc mu, finite.
   * @param psiLoc nu, finite.
   * @param phiConcentration kappa_1, finite and > 0.
   * @param psiConcentration kappa_2, finite and > 0.
   * @param corr `{correlation: lambda}` (finite) or `{weightedCorrelation: rho}` (in `[-1, 1]`,
   *   `lambda = rho sqrt(kappa_1 kappa_2)`, NumPyro's), exactly one.
   * @param options validation flag and name.
   * @throws ArgumentError naming the parameter that is out of range, `corr` (neither or both
   *   forms, unknown keys), or the parameters whose shapes do not broadcast.
   */
  constructor(
    phiLoc: TensorInput,
    psiLoc: TensorInput,
    phiConcentration: TensorInput,
    psiConcentration: TensorInput,
    corr: SineCorrelation,
    options: DistributionOptions = {},
  ) {
    super(options);
    if (corr === null || typeof corr !== 'object') {
      throw new ArgumentError('corr', 'expected {correlation} or {weightedCorrelation}');
    }
    checkOptionKeys(corr, ['correlation', 'weightedCorrelation'], 'SineBivariateVonMises corr');
    const hasC = corr.correlation !== undefined;
    const hasW = corr.weightedCorrelation !== undefined;
    if (hasC === hasW) {
      throw new ArgumentError(
        'corr',
        'expected exactly one of correlation and weightedCorrelation',
      );
    }
    this.phiLoc = this.param(phiLoc, 'phiLoc');
    this.psiLoc = this.param(psiLoc, 'psiLoc');
    this.phiConcentration = this.param(phiConcentration, 'phiConcentration');
    this.psiConcentration = this.param(psiConcentration, 'psiConcentration');
    this.checkFinite(this.phiLoc, 'phiLoc');
    this.checkFinite(this.psiLoc, 'psiLoc');
    this.checkPositive(this.phiConcentration, 'phiConcentration');
    this.checkPositive(this.psiConcentration, 'psiConcentration');
    let lambda: tf.Tensor;
    if (hasC) {
      lambda = this.param(corr.correlation as TensorInput, 'correlation');
      this.checkFinite(lambda, 'correlation');
    } else {
      const rho = this.param(corr.weightedCorrelation as TensorInput, 'weightedCorrelation');
      this.checkInRange(rho, 'weightedCorrelation', -1, 1);
      this.broadcastParams({
        weightedCorrelation: rho.shape,
        phiConcentration: this.phiConcentration.shape,
        psiConcentration: this.psiConcentration.shape,
      });
      lambda = this.own(
        tf.tidy(() => tf.mul(rho, tf.sqrt(tf.mul(this.phiConcentration, this.psiConcentration)))),
      );
    }
    this.correlation = lambda;
    this.batch = this.broadcastParams({
      phiLoc: this.phiLoc.shape,
      psiLoc: this.psiLoc.shape,
      phiConcentration: this.phiConcentration.shape,
      psiConcentration: this.psiConcentration.shape,
      correlation: lambda.shape,
    });
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [2];
  }
  /** Pairs of angles: `independent(circular, 1)` (every real pair; `bijectTo` onto `(-pi, pi)^2`). */
  override get support(): Constraint {
    return independent(circular, 1);
  }

  /**
   * `log C` over the batch: `2 log(2 pi) + logsumexp_m(log binom(2m, m) + m log(lambda^2 / (4
   * kappa_1 kappa_2)) + log I_m(kappa_1) + log I_m(kappa_2))`.
   */
  logNormalizer(): tf.Tensor {
    return tf.tidy(() => {
      const k1 = this.phiConcentration;
      const k2 = this.psiConcentration;
      const lam = this.correlation;
      const { terms, seriesLength } = this.seriesSizes();
      const m = tf.range(0, terms, 1, 'float32');
      const lbinom = tf.tensor1d(
        Array.from({ length: terms }, (_, i) => lgamma64(2 * i + 1) - 2 * lgamma64(i + 1)),
      );
      // lambda^2 + tiny: the m >= 1 terms vanish at lambda = 0 with a zero (not NaN) gradient
      const logRatio = tf.sub(
        tf.log(tf.add(tf.square(lam), 1e-30)),
        tf.log(tf.mul(4, tf.mul(k1, k2))),
      );
      const lr = tf.expandDims(broadcastTo(logRatio, this.batch), -1); // [...B, 1]
      const li1 = logBesselIOrders(broadcastTo(k1, this.batch), terms, seriesLength);
      const li2 = logBesselIOrders(broadcastTo(k2, this.batch), terms, seriesLength);
      const f = tf.add(tf.add(lbinom, tf.mul(m, lr)), tf.add(li1, li2)); // [...B, M]
      return tf.add(2 * Math.log(2 * Math.PI), tf.logSumExp(f, -1));
    });
  }

  /** Terms of the series of `C` and of each Bessel series, from the parameters' values. */
  private seriesSizes(): { terms: number; seriesLength: number } {
    const k1 = peekValues(this.phiConcentration);
    const k2 = peekValues(this.psiConcentration);
    const lam = peekValues(this.correlation);
    let kMax = 0;
    for (const arr of [k1, k2])
      for (let i = 0; i < arr.length; i++) kMax = Math.max(kMax, arr[i] as number);
    // the largest rho^2 = lambda^2 / (kappa_1 kappa_2) over the batch (bounded by the extremes)
    let lamMax = 0;
    for (let i = 0; i < lam.length; i++) lamMax = Math.max(lamMax, Math.abs(lam[i] as number));
    let kMin1 = Infinity;
    let kMin2 = Infinity;
    for (let i = 0; i < k1.length; i++) kMin1 = Math.min(kMin1, k1[i] as number);
    for (let i = 0; i < k2.length; i++) kMin2 = Math.min(kMin2, k2[i] as number);
    const rho2 = (lamMax * lamMax) / (kMin1 * kMin2);
    const byRatio =
      rho2 < 0.999
        ? Math.ceil(Math.log(SERIES_TOL) / Math.log(Math.max(rho2, 1e-300))) + 10
        : Infinity;
    // past m ~ e kappa_max / 2 the Bessel factors decay factorially, whatever rho
    const byBessel = Math.ceil(2 * kMax + 10 * Math.sqrt(kMax + 1) + 60);
    const terms = Math.min(MAX_TERMS, Math.max(MIN_TERMS, Math.min(byRatio, byBessel)));
    const seriesLength = Math.ceil(kMax / 2 + 8 * Math.sqrt(kMax / 2 + 1) + 30);
    return { terms, seriesLength };
  }

  protected _logProb(x: tf.Tensor): tf.Tensor {
    const [phi, psi] = tf.unstack(x, -1) as [tf.Tensor, tf.Tensor];
    const a = tf.sub(phi, this.phiLoc);
    const b = tf.sub(psi, this.psiLoc);
    const expo = tf.add(
      tf.add(tf.mul(this.phiConcentration, tf.cos(a)), tf.mul(this.psiConcentration, tf.cos(b))),
      tf.mul(this.correlation, tf.mul(tf.sin(a), tf.sin(b))),
    );
    return tf.sub(expo, this.logNormalizer());
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batch];
    if (full.some((n) => n === 0)) return tf.zeros([...full, 2]);
    const nb = this.batch.reduce((p, q) => p * q, 1);
    const ns = shape.reduce((p, q) => p * q, 1);
    const flat = (t: tf.Tensor): ArrayLike<number> =>
      tf.tidy(() => broadcastTo(t, this.batch)).dataSync();
    const k1 = flat(this.phiConcentration);
    const k2 = flat(this.psiConcentration);
    const lam = flat(this.correlation);
    const rng = makeRng(seed);
    const out = new Float32Array(ns * nb * 2);
    for (let b = 0; b < nb; b++) {
      const sampler = phiMarginalSampler(k1[b] as number, k2[b] as number, lam[b] as number);
      for (let s = 0; s < ns; s++) {
        const phi = sampler(rng);
        const sinPhi = Math.sin(phi);
        const kappa = Math.hypot(k2[b] as number, (lam[b] as number) * sinPhi);
        const beta = Math.atan2((lam[b] as number) * sinPhi, k2[b] as number);
        const psi = beta + vonMisesDraw(kappa, rng);
        const o = (s * nb + b) * 2;
        out[o] = phi;
        out[o + 1] = psi;
      }
    }
    const centred = tf.tensor(out, [...full, 2], 'float32');
    const loc = tf.stack(
      [broadcastTo(this.phiLoc, this.batch), broadcastTo(this.psiLoc, this.batch)],
      -1,
    );
    const xs = tf.add(centred, loc);
    const twoPi = 2 * Math.PI;
    return tf.sub(xs, tf.mul(twoPi, tf.floor(tf.div(tf.add(xs, Math.PI), twoPi))));
  }
  /** The pair of locations `(mu, nu)` (the circular means), shape `[...batch, 2]`. */
  protected override _mean(): tf.Tensor {
    return tf.stack(
      [broadcastTo(this.phiLoc, this.batch), broadcastTo(this.psiLoc, this.batch)],
      -1,
    );
  }
}

/**
 * `log I_m(kappa)` for the orders `m = 0..terms-1`, shape `[...kappa.shape, terms]`, from the power
 * series `I_m(k) = sum_{j>=0} (k/2)^{2j+m} / (j! (j+m)!)` with `seriesLength` terms in log space
 * (differentiable in `kappa`).
 */
function logBesselIOrders(kappa: tf.Tensor, terms: number, seriesLength: number): tf.Tensor {
  return tf.tidy(() => {
    const powers = new Float32Array(terms * seriesLength);
    const consts = new Float32Array(terms * seriesLength);
    for (let m = 0; m < terms; m++) {
      for (let j = 0; j < seriesLength; j++) {
        powers[m * seriesLength + j] = 2 * j + m;
        consts[m * seriesLength + j] = lgamma64(j + 1) + lgamma64(j + m + 1);
      }
    }
    const p = tf.tensor2d(powers, [terms, seriesLength]);
    const c = tf.tensor2d(consts, [terms, seriesLength]);
    const logHalf = tf.reshape(tf.log(tf.mul(kappa, 0.5)), [...kappa.shape, 1, 1]);
    return tf.logSumExp(tf.sub(tf.mul(p, logHalf), c), -1);
  });
}

/**
 * A sampler of `phi' ~ p(phi') ∝ exp(f(phi'))`, `f = kappa_1 cos phi' + log I_0(sqrt(kappa_2^2 +
 * lambda^2 sin^2 phi'))` on `[-pi, pi)`, by rejection from a piecewise-constant envelope on a
 * grid (exact: `|f''| <= M_2`, so `f <= max(f(a), f(b)) + M_2 h^2 / 8` on a cell `[a, b]`).
 */
function phiMarginalSampler(k1: number, k2: number, lam: number): (rng: () => number) => number {
  const f = (p: number): number =>
    k1 * Math.cos(p) + logBesselI0Host(Math.hypot(k2, lam * Math.sin(p)));
  const m2 = k1 + (lam * lam) / 2 + lam ** 4 / 16;
  const cells = Math.min(
    1 << 16,
    Math.max(64, Math.ceil(2 * Math.PI * Math.sqrt(m2 / (8 * ENVELOPE_SLACK)))),
  );
  const h = (2 * Math.PI) / cells;
  const slack = (m2 * h * h) / 8;
  const nodes = Array.from({ length: cells + 1 }, (_, i) => f(-Math.PI + i * h));
  const env = Array.from(
    { length: cells },
    (_, i) => Math.max(nodes[i] as number, nodes[i + 1] as number) + slack,
  );
  const top = Math.max(...env);
  const cum = new Float64Array(cells);
  let acc = 0;
  env.forEach((e, i) => {
    acc += Math.exp(e - top);
    cum[i] = acc;
  });
  return (rng) => {
    for (;;) {
      const u = rng() * acc;
      let lo = 0;
      let hi = cells - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cum[mid] as number) < u) lo = mid + 1;
        else hi = mid;
      }
      const p = -Math.PI + (lo + rng()) * h;
      if (Math.log(rng()) <= f(p) - (env[lo] as number)) return p;
    }
  };
}
