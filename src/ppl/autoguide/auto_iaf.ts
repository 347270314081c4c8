/**
 * `AutoIAFNormal` (Pyro's): a normalizing-flow guide over the concatenated unconstrained latent
 * vector `u ∈ R^D`: `ε ~ N(0, I_D)` pushed through `numTransforms` inverse autoregressive flows
 * (Kingma et al. 2016), each an affine map whose shift and log-scale come from a MADE network
 * (masked autoencoder; Germain et al. 2015), so output `k` depends only on inputs before `k`:
 *
 * $$y = \mu(x) + e^{s(x)} \odot x,\qquad \log\lvert\det J\rvert = \textstyle\sum_k s_k(x),\qquad
 *   \log q(u) = \log\mathcal N(\varepsilon; 0, I) - \textstyle\sum_t\sum_k s^{(t)}_k.$$
 *
 * Successive flows use reversed variable orders. `s` is clamped to [-5, 3] as in Pyro. The
 * summaries (`median`, `quantiles`) are Monte Carlo estimates from 4000 joint draws.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions } from '../../distributions/distribution.js';
import { independent, real, type Constraint } from '../../constraints/constraints.js';
import { ArgumentError } from '../../utils/errors.js';
import { nextSeed } from '../../utils/seed.js';
import type { Fn } from '../messenger.js';
import { getParamStore } from '../param_store.js';
import { param } from '../runtime.js';
import { AutoContinuous } from './continuous.js';
import type { LatentTransform } from './latent_transform.js';
import type { AutoGuideOptions } from './guide.js';

const LOG_2PI = Math.log(2 * Math.PI);

/** Weights of one MADE network: hidden layers, then the shift and log-scale heads. */
export interface MadeWeights {
  hidden: { w: tf.Tensor; b: tf.Tensor; mask: tf.Tensor }[];
  shift: { w: tf.Tensor; b: tf.Tensor };
  logScale: { w: tf.Tensor; b: tf.Tensor };
  outMask: tf.Tensor;
}

/**
 * MADE degree masks for `d` inputs in the given order and the hidden sizes: hidden unit degrees
 * cycle through `1..max(1, d-1)`; a hidden unit sees inputs of degree <= its own, an output of
 * degree `k` sees hidden units of degree < `k`.
 */
export function madeMasks(
  order: number[],
  hiddenDims: number[],
): { hidden: number[][][]; out: number[][] } {
  const d = order.length;
  const inDeg = order.map((o) => o + 1);
  const degs: number[][] = [inDeg];
  for (const h of hiddenDims)
    degs.push(Array.from({ length: h }, (_, j) => (j % Math.max(1, d - 1)) + 1));
  const hidden: number[][][] = [];
  for (let l = 0; l < hiddenDims.length; l++) {
    const a = degs[l] as number[];
    const b = degs[l + 1] as number[];
    hidden.push(a.map((da) => b.map((db) => (db >= da ? 1 : 0))));
  }
  const last = degs[degs.length - 1] as number[];
  const out = last.map((dh) => inDeg.map((dk) => (dk > dh ? 1 : 0)));
  return { hidden, out };
}

/** One IAF step: `y`, and `s` (the log-scales, shape of `x`). */
export function iafStep(x: tf.Tensor, m: MadeWeights): { y: tf.Tensor; logScale: tf.Tensor } {
  let h = x;
  for (const l of m.hidden) h = tf.relu(tf.add(tf.matMul(h, tf.mul(l.w, l.mask)), l.b));
  const shift = tf.add(tf.matMul(h, tf.mul(m.shift.w, m.outMask)), m.shift.b);
  const s = tf.clipByValue(
    tf.add(tf.matMul(h, tf.mul(m.logScale.w, m.outMask)), m.logScale.b),
    -5,
    3,
  );
  return { y: tf.add(shift, tf.mul(tf.exp(s), x)), logScale: s };
}

/** The flow distribution over `u` (event `[D]`). */
export class IAFLatent extends Distribution {
  private cachedU: tf.Tensor | null = null;
  private cachedLogQ: tf.Tensor | null = null;
  constructor(
    readonly dim: number,
    readonly flows: MadeWeights[],
    options: DistributionOptions = {},
  ) {
    super(options);
  }
  get batchShape(): number[] {
    return [];
  }
  get eventShape(): number[] {
    return [this.dim];
  }
  override get support(): Constraint {
    return independent(real, 1);
  }
  private push(eps: tf.Tensor): { u: tf.Tensor; logQ: tf.Tensor } {
    let x = eps;
    let logQ = tf.mul(-0.5, tf.add(tf.sum(tf.square(eps), -1), this.dim * LOG_2PI));
    for (const f of this.flows) {
      const { y, logScale } = iafStep(x, f);
      logQ = tf.sub(logQ, tf.sum(logScale, -1));
      x = y;
    }
    return { u: x, logQ };
  }
  /** A draw; a single one keeps its density for {@link IAFLatent.logProb}. */
  override rsample(shape: number[] = [], seed?: number): tf.Tensor {
    if (shape.length > 0) return super.rsample(shape, seed);
    // the flow's intermediates freed (a call outside a tidy left 21 tensors behind)
    const { u, logQ } = tf.tidy(() => {
      const eps = tf.randomNormal([1, this.dim], 0, 1, 'float32', nextSeed(seed));
      const r = this.push(eps);
      return { u: tf.reshape(r.u, [this.dim]), logQ: tf.reshape(r.logQ, []) };
    });
    this.cachedLogQ?.dispose();
    this.cachedU = u;
    this.cachedLogQ = logQ;
    return u;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const eps = tf.randomNormal([n, this.dim], 0, 1, 'float32', seed);
    return tf.reshape(this.push(eps).u, [...shape, this.dim]);
  }
  /** Inverts the flows (each by `D` fixed-point passes, exact for autoregressive maps). */
  protected _logProb(u: tf.Tensor): tf.Tensor {
    // a copy: the caller frees what logProb returns, the kept density stays for the next call
    if (u === this.cachedU && this.cachedLogQ !== null) return this.cachedLogQ.clone();
    const lead = u.shape.slice(0, -1);
    let y = tf.reshape(u, [-1, this.dim]);
    let sumS: tf.Tensor = tf.zeros([y.shape[0] as number]);
    for (let t = this.flows.length - 1; t >= 0; t--) {
      const f = this.flows[t] as MadeWeights;
      let x = y;
      for (let k = 0; k < this.dim; k++) {
        const { y: yx, logScale } = iafStep(x, f);
        x = tf.div(tf.sub(y, tf.sub(yx, tf.mul(tf.exp(logScale), x))), tf.exp(logScale));
      }
      sumS = tf.add(sumS, tf.sum(iafStep(x, f).logScale, -1));
      y = x;
    }
    const lp = tf.sub(tf.mul(-0.5, tf.add(tf.sum(tf.square(y), -1), this.dim * LOG_2PI)), sumS);
    return tf.reshape(lp, lead);
  }
}

/** Options of {@link AutoIAFNormal}. */
export interface AutoIAFOptions extends AutoGuideOptions {
  /** Number of IAF steps. Default 2. */
  numTransforms?: number;
  /** Hidden layer sizes of each MADE. Default `[max(8, 3 D)]`. */
  hiddenDims?: number[];
}

/**
 * An inverse-autoregressive-flow guide.
 *
 * @example
 * ```ts
 * const guide = new AutoIAFNormal(model, { numTransforms: 2, hiddenDims: [16] });
 * ```
 */
export class AutoIAFNormal<A extends unknown[]> extends AutoContinuous<A> {
  readonly numTransforms: number;
  private readonly hiddenOption: number[] | undefined;
  constructor(model: Fn<A, unknown>, options: AutoIAFOptions = {}) {
    super(model, options, 'AutoIAFNormal', ['numTransforms', 'hiddenDims']);
    const n = options.numTransforms ?? 2;
    if (!Number.isInteger(n) || n < 1) {
      throw new ArgumentError('numTransforms', `expected an integer >= 1, got ${n}`);
    }
    const h = options.hiddenDims;
    if (
      h !== undefined &&
      (!Array.isArray(h) || h.length === 0 || h.some((v) => !Number.isInteger(v) || v < 1))
    ) {
      throw new ArgumentError(
        'hiddenDims',
        `expected a non-empty array of integers >= 1, got ${String(h)}`,
      );
    }
    this.numTransforms = n;
    this.hiddenOption = h;
  }
  /** Hidden sizes (after the first call). */
  get hiddenDims(): number[] {
    return this.hiddenOption ?? [Math.max(8, 3 * this.latentDim)];
  }
  private flows(): MadeWeights[] {
    const d = this.latentDim;
    const out: MadeWeights[] = [];
    for (let t = 0; t < this.numTransforms; t++) {
      const order = Array.from({ length: d }, (_, i) => (t % 2 === 0 ? i : d - 1 - i));
      const masks = madeMasks(order, this.hiddenDims);
      const sizes = [d, ...this.hiddenDims];
      const p = `${this.prefix}.flows.${t}`;
      const hidden = this.hiddenDims.map((hdim, l) => ({
        w: param(`${p}.w${l}`, () =>
          tf.randomNormal(
            [sizes[l] as number, hdim],
            0,
            1 / Math.sqrt(sizes[l] as number),
            'float32',
            nextSeed(),
          ),
        ),
        b: param(`${p}.b${l}`, () => tf.zeros([hdim])),
        mask: tf.tensor2d(masks.hidden[l] as number[][], [sizes[l] as number, hdim]),
      }));
      const last = sizes[sizes.length - 1] as number;
      const small = (): tf.Tensor => tf.randomNormal([last, d], 0, 0.01, 'float32', nextSeed());
      out.push({
        hidden,
        shift: { w: param(`${p}.shift_w`, small), b: param(`${p}.shift_b`, () => tf.zeros([d])) },
        logScale: {
          w: param(`${p}.scale_w`, small),
          b: param(`${p}.scale_b`, () => tf.zeros([d])),
        },
        outMask: tf.tensor2d(masks.out, [last, d]),
      });
    }
    return out;
  }
  protected latentDistribution(): Distribution {
    // the flow starts at the identity around the initial point: shift the base by the init
    const loc = param(`${this.prefix}.loc`, () => this.initLatent());
    return new ShiftedLatent(new IAFLatent(this.latentDim, this.flows()), loc);
  }
  /** Monte Carlo mean and sd of `q(u)` from 4000 draws. */
  locAndScale(): { loc: tf.Tensor; scale: tf.Tensor } {
    const q = this.getPosterior();
    try {
      return tf.tidy(() => {
        const s = q.sample([4000]);
        const { mean, variance } = tf.moments(s, 0);
        return { loc: mean, scale: tf.sqrt(variance) };
      });
    } finally {
      q.dispose();
    }
  }
  /** Copies of the current flow weights and `loc` (kept: the caller frees them). */
  private copyParams(): { flows: MadeWeights[]; loc: tf.Tensor } {
    let out: { flows: MadeWeights[]; loc: tf.Tensor } | undefined;
    tf.tidy(() => {
      const store = getParamStore();
      const copy = (n: string): tf.Tensor => tf.keep(store.value(n));
      const flows: MadeWeights[] = this.flows().map((f, t) => {
        const p = `${this.prefix}.flows.${t}`;
        return {
          hidden: f.hidden.map((l, i) => ({
            w: copy(`${p}.w${i}`),
            b: copy(`${p}.b${i}`),
            mask: tf.keep(l.mask),
          })),
          shift: { w: copy(`${p}.shift_w`), b: copy(`${p}.shift_b`) },
          logScale: { w: copy(`${p}.scale_w`), b: copy(`${p}.scale_b`) },
          outMask: tf.keep(f.outMask),
        };
      });
      out = { flows, loc: copy(`${this.prefix}.loc`) };
    });
    return out as { flows: MadeWeights[]; loc: tf.Tensor };
  }
  override getPosterior(): Distribution {
    // a distribution over the current parameter values (copies, owned by the result)
    const { flows, loc } = this.copyParams();
    return new OwningLatent(new IAFLatent(this.latentDim, flows), loc, flows);
  }
  /**
   * `u = loc + f_T ∘ ... ∘ f_1(z)`, the flows of the guide's draws, `log|det J| = Σ_t Σ_k s_k`
   * (see `AutoContinuous.getTransform`).
   */
  override getTransform(): LatentTransform {
    const { flows, loc } = this.copyParams();
    return new IAFTransform(this.latentDim, flows, loc);
  }
}

/** Disposes the tensors of MADE weights. */
function disposeFlows(flows: MadeWeights[]): void {
  for (const f of flows) {
    for (const l of f.hidden) tf.dispose([l.w, l.b, l.mask]);
    tf.dispose([f.shift.w, f.shift.b, f.logScale.w, f.logScale.b, f.outMask]);
  }
}

/** The map of {@link AutoIAFNormal} from its standard normal base (owns its weight copies). */
class IAFTransform implements LatentTransform {
  constructor(
    readonly dim: number,
    private readonly flows: MadeWeights[],
    private readonly loc: tf.Tensor,
  ) {}
  forwardAndLogDet(z: tf.Tensor): { u: tf.Tensor; logDet: tf.Tensor } {
    return tf.tidy(() => {
      const lead = z.shape.slice(0, -1);
      let x = tf.reshape(z, [-1, this.dim]);
      let logDet: tf.Tensor = tf.zeros([x.shape[0] as number]);
      for (const f of this.flows) {
        const { y, logScale } = iafStep(x, f);
        logDet = tf.add(logDet, tf.sum(logScale, -1));
        x = y;
      }
      return {
        u: tf.reshape(tf.add(x, this.loc), z.shape),
        logDet: tf.reshape(logDet, lead),
      };
    });
  }
  dispose(): void {
    disposeFlows(this.flows);
    this.loc.dispose();
  }
}

/** `u = loc + v` for `v` from an inner latent (event `[D]`). */
class ShiftedLatent extends Distribution {
  private lastU: tf.Tensor | null = null;
  private lastV: tf.Tensor | null = null;
  constructor(
    readonly inner: Distribution,
    readonly loc: tf.Tensor,
  ) {
    super();
  }
  get batchShape(): number[] {
    return [];
  }
  get eventShape(): number[] {
    return this.inner.eventShape;
  }
  override get support(): Constraint {
    return independent(real, 1);
  }
  override rsample(shape: number[] = [], seed?: number): tf.Tensor {
    if (shape.length > 0) return super.rsample(shape, seed);
    const v = this.inner.rsample([], seed);
    this.lastV = v;
    this.lastU = tf.add(this.loc, v);
    return this.lastU;
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return tf.add(this.loc, this.inner.rsample(shape, seed));
  }
  protected _logProb(u: tf.Tensor): tf.Tensor {
    if (u === this.lastU && this.lastV !== null) return this.inner.logProb(this.lastV);
    return this.inner.logProb(tf.sub(u, this.loc));
  }
}

/** A {@link ShiftedLatent} that owns copies of the flow weights (freed by `dispose`). */
class OwningLatent extends ShiftedLatent {
  constructor(
    inner: Distribution,
    loc: tf.Tensor,
    private readonly weights: MadeWeights[],
  ) {
    super(inner, loc);
  }
  override dispose(): void {
    super.dispose();
    this.loc.dispose();
    disposeFlows(this.weights);
  }
}
