/**
 * SWAG and MultiSWAG (Maddox et al. 2019; Wilson & Izmailov 2020): a Gaussian over the weights
 * of any tfjs model fitted to the SGD iterates of continued training at a constant learning rate.
 * From `T` snapshots `theta_1..theta_T` it keeps the SWA mean, the diagonal second moment and the
 * last `rank` deviations `D = [theta_t - thetabar_t]`, and samples
 *
 * $$\tilde\theta = \bar\theta + \sqrt{s}\Big(\Sigma_{diag}^{1/2} z_1 + \frac{D z_2}{\sqrt{K-1}}\Big),
 *   \qquad \Sigma_{diag} = \overline{\theta^2} - \bar\theta^2,\ z_1, z_2 \sim \mathcal N(0, I)$$
 *
 * with `s = 1/2` (the paper's `Sigma = (Sigma_diag + D D^T/(K-1)) / 2`). MultiSWAG is an ensemble
 * of independently trained SWAG posteriors.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { optionsObject } from '../../utils/options.js';
import { classProbs, looksLikeProbs, outputKindOf } from '../class_outputs.js';
import { checkInputsOf, inputList, type ModelInput } from '../../layers/model_input.js';
import { deriveSeeds, makeRng, nextSeed } from '../../utils/seed.js';
import type { Predictor } from '../predictors.js';
import { writeExact } from './exact_write.js';
import { bnUpdate, checkBnUpdateArgs, restoreBnStats, saveBnStats } from './bn_update.js';
import {
  checkSampleOptions,
  type SwagOptions,
  type SwagPredictorOptions,
  type SwagSampleOptions,
} from './swag_options.js';

/**
 * Running SWAG moments over the trainable weights of a model. Owns its moment tensors: call
 * {@link Swag.dispose} when done (the model stays the caller's).
 */
export class Swag {
  readonly model: tf.LayersModel;
  readonly rank: number;
  private n = 0;
  private mean: tf.Tensor[] = [];
  /** `sum_t (theta_t - thetabar)^2` (Welford's running sum of squared deviations). */
  private m2: tf.Tensor[] = [];
  private deviations: tf.Tensor[][] = [];
  private bnData: { x: ModelInput; batchSize: number } | undefined;
  /**
   * The weights the posterior is over: `model.trainableWeights` when the Swag was made (a layer
   * frozen or unfrozen later does not shift the moments onto other weights).
   */
  readonly variables: readonly tf.LayerVariable[];

  constructor(model: tf.LayersModel, options: SwagOptions = {}) {
    optionsObject(options, ['rank'], 'Swag');
    if (!(model instanceof tf.LayersModel))
      throw new ArgumentError('model', 'expected a tf.LayersModel');
    const rank = options.rank ?? 20;
    if (!Number.isInteger(rank) || rank < 0) {
      throw new ArgumentError('rank', `expected an integer >= 0, got ${rank}`);
    }
    if (model.trainableWeights.length === 0) {
      throw new ArgumentError('model', 'has no trainable weights to collect');
    }
    this.model = model;
    this.rank = rank;
    this.variables = [...model.trainableWeights];
  }

  /** Snapshots collected so far `T`. */
  get numSnapshots(): number {
    return this.n;
  }

  /** Deviation columns kept `K = min(T, rank)`. */
  get numDeviations(): number {
    return this.deviations.length;
  }

  private current(): tf.Tensor[] {
    return this.variables.map((w) => w.read());
  }

  /**
   * Add the model's current weights as a snapshot:
   * `thetabar <- (T thetabar + theta)/(T+1)`, the second moment likewise, and the deviation
   * `theta - thetabar` (with the updated mean, as the reference implementation) appended to `D`
   * (the oldest dropped beyond `rank`). The moments are kept in Welford's form,
   *
   * $$\bar\theta_{T+1} = \bar\theta_T + \frac{\theta - \bar\theta_T}{T+1},\qquad
   *   M_{T+1} = M_T + (\theta - \bar\theta_T)(\theta - \bar\theta_{T+1}),$$
   *
   * so that `Sigma_diag = M_T / T` (= `mean of theta^2 - thetabar^2`) keeps its precision in float32
   * when the iterates spread little around large weights (late SGD), where the difference of the two
   * moments would cancel.
   */
  collect(): void {
    const w = this.current();
    const n = this.n;
    const next = tf.tidy(() =>
      w.map((t, i) => {
        if (n === 0) return { m: t.clone(), q: tf.zerosLike(t) };
        const old = this.mean[i] as tf.Tensor;
        const d = tf.sub(t, old);
        const m = tf.add(old, tf.div(d, n + 1));
        const q = tf.add(this.m2[i] as tf.Tensor, tf.mul(d, tf.sub(t, m)));
        return { m, q };
      }),
    );
    tf.dispose([this.mean, this.m2]);
    this.mean = next.map((v) => v.m);
    this.m2 = next.map((v) => v.q);
    this.n = n + 1;
    if (this.rank > 0) {
      this.deviations.push(tf.tidy(() => w.map((t, i) => tf.sub(t, this.mean[i] as tf.Tensor))));
      if (this.deviations.length > this.rank) tf.dispose(this.deviations.shift());
    }
  }

  private checkReady(): void {
    if (this.n === 0)
      throw new ArgumentError('swag', 'no snapshot collected yet (call collect() during training)');
  }

  /** SWA mean weights (new tensors, in {@link Swag.variables} order; the caller disposes). */
  swaMean(): tf.Tensor[] {
    this.checkReady();
    return this.mean.map((t) => t.clone());
  }

  /**
   * Diagonal variance `mean of theta^2 - thetabar^2 = (1/T) sum_t (theta_t - thetabar)^2` per weight
   * (new tensors; `>= 0`, clamped against round-off).
   */
  diagVariance(): tf.Tensor[] {
    this.checkReady();
    const n = this.n;
    return tf.tidy(() => this.m2.map((q) => tf.relu(tf.div(q, n))));
  }

  /** The deviation matrix as `K` columns, each a list of tensors like the weights (new tensors). */
  deviationColumns(): tf.Tensor[][] {
    return this.deviations.map((col) => col.map((t) => t.clone()));
  }

  /**
   * Draw weights from the SWAG posterior (new tensors in {@link Swag.variables} order; the
   * caller disposes): `thetabar + sqrt(s) (Sigma_diag^{1/2} z_1 + D z_2 / sqrt(K - 1))`.
   */
  sample(options: SwagSampleOptions = {}): tf.Tensor[] {
    this.checkReady();
    const scale = checkSampleOptions(options);
    const k = this.deviations.length;
    const useLowRank = (options.lowRank ?? true) && k >= 2;
    const [s1, s2] = deriveSeeds(nextSeed(options.seed), 2) as [number, number];
    const rng = makeRng(s2);
    const z2 = Array.from({ length: k }, () => {
      const u = 1 - rng();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
    });
    return tf.tidy(() => {
      const variance = this.diagVariance();
      return this.mean.map((m, i) => {
        const z1 = tf.randomNormal(m.shape, 0, 1, 'float32', (s1 + i * 7919) >>> 0);
        let noise = tf.mul(tf.sqrt(variance[i] as tf.Tensor), z1);
        if (useLowRank) {
          let low: tf.Tensor = tf.zerosLike(m);
          for (let c = 0; c < k; c++) {
            low = tf.add(
              low,
              tf.mul((this.deviations[c] as tf.Tensor[])[i] as tf.Tensor, z2[c] as number),
            );
          }
          noise = tf.add(noise, tf.div(low, Math.sqrt(k - 1)));
        }
        return tf.add(m, tf.mul(noise, Math.sqrt(scale)));
      });
    });
  }

  /**
   * Write `values` into {@link Swag.variables} (the model's trainable weights when the Swag was made), `theta <- v` exactly (a layer's weight
   * constraints are not applied, so a SWAG draw stays a draw and saved weights come back bit for
   * bit; see `exact_write.ts`).
   *
   * @throws ArgumentError naming `values` (count or shape) before any write.
   */
  assign(values: tf.Tensor[]): void {
    writeExact(this.variables, values);
  }

  /**
   * Keep a copy of the training inputs `x` for `bn_update` at prediction ({@link swagPredictor}
   * uses it by default; freed by {@link Swag.dispose}).
   *
   * @throws ArgumentError naming `x` / `batchSize` before any work.
   */
  keepBnUpdateData(x: ModelInput, batchSize = 128): void {
    checkBnUpdateArgs(this.model, x, batchSize);
    if (this.bnData !== undefined) tf.dispose(inputList(this.bnData.x));
    this.bnData = {
      x: Array.isArray(x) ? x.map((t) => t.clone()) : x.clone(),
      batchSize,
    };
  }

  /** The training inputs kept by {@link Swag.keepBnUpdateData}, if any (owned by this Swag). */
  get bnUpdateData(): { x: ModelInput; batchSize: number } | undefined {
    return this.bnData;
  }

  /** Free the moment tensors (and the inputs kept for `bn_update`). */
  dispose(): void {
    if (this.bnData !== undefined) tf.dispose(inputList(this.bnData.x));
    this.bnData = undefined;
    tf.dispose([this.mean, this.m2, ...this.deviations]);
    this.mean = [];
    this.m2 = [];
    this.deviations = [];
    this.n = 0;
  }
}

/**
 * A {@link Predictor} drawing one SWAG weight sample per Monte Carlo sample (MultiSWAG with
 * several posteriors: the samples are split evenly over them, remainder to the first ones). The
 * models' weights are restored after every call.
 *
 * $$p_s(y\mid x) = \operatorname{softmax}(f(x; \tilde\theta_s)),\quad \tilde\theta_s \sim \mathcal N_{SWAG}$$
 *
 * (`f` the model's logits; a model that ends in a softmax is used as it is, and one with a single
 * output is a binary classifier, `[1 - p, p]`: see `class_outputs.ts`). With `bnUpdate`, the
 * BatchNormalization statistics of every sample are recomputed on the training inputs first
 * (Maddox et al.'s `bn_update`), and the model's own are restored after.
 *
 * @param swag one {@link Swag} or several (MultiSWAG).
 * @param options `scale`, `lowRank`, `seed` (samples are then reproducible per call), `output`,
 *   `bnUpdate`.
 */
export function swagPredictor(swag: Swag | Swag[], options: SwagPredictorOptions = {}): Predictor {
  optionsObject(options, ['scale', 'lowRank', 'seed', 'output', 'bnUpdate'], 'swagPredictor');
  const members = Array.isArray(swag) ? swag : [swag];
  if (members.length === 0 || !members.every((m) => m instanceof Swag)) {
    throw new ArgumentError('swag', 'expected a Swag or a non-empty array of Swag');
  }
  const { output = 'auto', bnUpdate: bnOption, ...sampleOptions } = options;
  checkSampleOptions(sampleOptions);
  if (!['auto', 'logits', 'probs', 'regression'].includes(output)) {
    throw new ArgumentError(
      'output',
      `expected 'auto', 'logits', 'probs' or 'regression', got ${String(output)}`,
    );
  }
  if (bnOption !== undefined && bnOption !== false) {
    if (bnOption === null || typeof bnOption !== 'object') {
      throw new ArgumentError(
        'bnUpdate',
        `expected { x, batchSize } or false, got ${String(bnOption)}`,
      );
    }
    members.forEach((m) => checkBnUpdateArgs(m.model, bnOption.x, bnOption.batchSize ?? 128));
  }
  const bnFor = (m: Swag): { x: ModelInput; batchSize: number } | undefined =>
    bnOption === false
      ? undefined
      : bnOption !== undefined
        ? { x: bnOption.x, batchSize: bnOption.batchSize ?? 128 }
        : m.bnUpdateData;
  let call = 0;
  return {
    predictSamples(x: ModelInput, numSamples: number): tf.Tensor3D {
      if (!Number.isInteger(numSamples) || numSamples < 1) {
        throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
      }
      members.forEach((m, i) => {
        if (m.numSnapshots === 0) {
          throw new ArgumentError(
            members.length > 1 ? `swag[${i}]` : 'swag',
            'no snapshot collected yet (call collect() during training)',
          );
        }
      });
      members.forEach((m) => checkInputsOf(m.model, x));
      const base = options.seed !== undefined ? options.seed + 1000003 * call++ : undefined;
      const probs: tf.Tensor[] = [];
      try {
        for (let s = 0; s < numSamples; s++) {
          const member = members[s % members.length] as Swag;
          const bn = bnFor(member);
          const draw = member.sample({
            ...sampleOptions,
            ...(base !== undefined ? { seed: base + s } : {}),
          });
          const saved = member.variables.map((w) => w.read().clone());
          const savedBn = bn !== undefined ? saveBnStats(member.model) : [];
          try {
            member.assign(draw);
            if (bn !== undefined) bnUpdate(member.model, bn.x, { batchSize: bn.batchSize });
            probs.push(
              tf.tidy(() => {
                const out = member.model.apply(x, { training: false }) as tf.Tensor;
                if (output === 'regression') return out.clone();
                const kind =
                  output !== 'auto'
                    ? output
                    : (outputKindOf(member.model) ?? (looksLikeProbs(out) ? 'probs' : 'logits'));
                return classProbs(out, kind);
              }),
            );
          } finally {
            member.assign(saved);
            if (bn !== undefined) restoreBnStats(member.model, savedBn);
            tf.dispose([saved, savedBn, draw]);
          }
        }
        return tf.stack(probs) as tf.Tensor3D;
      } finally {
        tf.dispose(probs);
      }
    },
  };
}
