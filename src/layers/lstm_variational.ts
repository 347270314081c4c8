/**
 * The LSTM kind of Bayesian layer (bayesian-torch's `LSTMReparameterization` / `LSTMFlipout`),
 * with the gate layout and arguments of TF.js's `tf.layers.lstm`. On inputs `[batch, T, in]`,
 * with `h_0 = c_0 = 0`, at every step
 *
 * $$z_t = [x_t,\ h_{t-1}]\,K + b,\qquad [z^i, z^f, z^c, z^o] = \operatorname{split}_4(z_t),$$
 * $$c_t = \sigma_r(z^f) \odot c_{t-1} + \sigma_r(z^i) \odot a(z^c),\qquad
 *   h_t = \sigma_r(z^o) \odot a(c_t),$$
 *
 * `a` the `activation` (default tanh), `σ_r` the `recurrentActivation` (default TF.js's
 * `'hardSigmoid'`, `clip(0.2 z + 0.5, 0, 1)`). The one variational kernel is the vertical
 * concatenation `K = [W; U]` of shape `[in + units, 4 units]` (TF.js's `kernel` `[in, 4 units]`
 * over its `recurrentKernel` `[units, 4 units]`, gate order i, f, c, o), the bias `b` has
 * `4 units` entries; so the layer's `outChannels` (the base's output width, the bias length) is
 * `4 units`, and `units` (the hidden size) is the width of `h_t`. Mean field
 * `q(K_jk) = N(mu_jk, softplus(rho_jk)^2)`, the same for `b`; the KL is the base's.
 *
 * Per call (one forward pass over the sequence), per estimator:
 * - `'reparam'`: one sample `K = mu + σ ⊙ ε` and `b` shared by all time steps and the batch
 *   (bayesian-torch);
 * - `'flipout'`: one perturbation `ΔK = σ ⊙ ε` and Rademacher signs `s_in` `[batch, in + units]`,
 *   `s_out` `[batch, 4 units]` per example, fixed over time:
 *   `z_t = [x_t,h] mu + (([x_t,h] ⊙ s_in) ΔK) ⊙ s_out + b`;
 * - `'local'`: local reparameterization of the gate pre-activations at every step,
 *   `z_t = [x_t,h] mu + sqrt([x_t,h]^2 σ^2) ⊙ ε_t + b` with fresh `ε_t` per step — the weight
 *   sample is then not shared across time (each step sees an independent kernel draw);
 * - `mode: 'mean'`: `K = mu`, `b = mu_b` (deterministic, TF.js's LSTM with those weights).
 *
 * The bias is sampled once per call. The output is `h_T` `[batch, units]`, or every `h_t`
 * `[batch, T, units]` with `returnSequences` (with `goBackwards` the sequence is read from the last
 * step, and the outputs are in that processing order, as TF.js).
 */
import * as tf from '@tensorflow/tfjs';
import { localReparamSample, softplusReparam, softplusSquare } from '../backend/fused.js';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../utils/options.js';
import { applyActivation, normalizeActivation } from './activations.js';
import { BayesianLayer, type BayesianLayerArgs } from './bayesian_layer.js';
import { type Estimator } from './estimator_registry.js';
import { LOCAL_REPARAM_MIN_VARIANCE, rademacher, standardNormal } from './estimators.js';
import { LAYER_ARG_KEYS, type TfjsLayerArgs } from './tfjs_args.js';

/** Arguments of the Bayesian LSTM layers: TF.js's `tf.layers.lstm` names plus the variational ones. */
export interface LSTMVariationalArgs extends Omit<BayesianLayerArgs, 'outChannels'>, TfjsLayerArgs {
  /** Hidden size (width of `h_t`), an integer >= 1. Required. */
  units: number;
  /** Cell and output activation `a`. Default `'tanh'`. */
  activation?: string | null;
  /** Gate activation `σ_r`. Default `'hardSigmoid'` (TF.js's default). */
  recurrentActivation?: string | null;
  /** Return `h_t` of every step (`[batch, T, units]`) instead of the last (`[batch, units]`). Default false. */
  returnSequences?: boolean;
  /** Read the sequence from its last step to its first. Default false. */
  goBackwards?: boolean;
  /** Start the forget-gate bias means at 1 (Jozefowicz et al. 2015). Default true (TF.js's default). */
  unitForgetBias?: boolean;
  /** Must be false: the Bayesian LSTM keeps no state between calls. */
  stateful?: boolean;
  /** Must be false: the Bayesian LSTM returns `h` only. */
  returnState?: boolean;
  /** Must be 0: the weight posterior replaces dropout. */
  dropout?: number;
  /** Must be 0: the weight posterior replaces dropout. */
  recurrentDropout?: number;
  /** Accepted and ignored (TF.js ignores it too). */
  unroll?: boolean;
  /** Accepted and ignored (TF.js always uses implementation 2). */
  implementation?: number;
}

/** The argument names a Bayesian LSTM accepts. */
const LSTM_KEYS: readonly string[] = [
  ...LAYER_ARG_KEYS.dense.filter((k) => k !== 'outChannels'),
  'recurrentActivation',
  'returnSequences',
  'goBackwards',
  'unitForgetBias',
  'stateful',
  'returnState',
  'dropout',
  'recurrentDropout',
  'unroll',
  'implementation',
];

/** The base's arguments of an LSTM: `outChannels = 4 units`, tanh by default. */
function toBaseArgs(a: LSTMVariationalArgs): BayesianLayerArgs {
  if (a === null || typeof a !== 'object') {
    throw new ArgumentError('args', 'expected an object with at least units');
  }
  if ((a as { outChannels?: unknown }).outChannels !== undefined) {
    throw new ArgumentError(
      'outChannels',
      'is not an argument of a Bayesian LSTM: give units (the hidden size); the gate width ' +
        '4 * units is derived',
    );
  }
  checkOptionKeys(a, LSTM_KEYS, 'a Bayesian LSTM layer');
  for (const key of ['stateful', 'returnState'] as const) {
    if (booleanOption(a[key], key, false)) {
      throw new ArgumentError(
        key,
        key === 'stateful'
          ? 'a Bayesian LSTM keeps no state between calls (stateful must be false)'
          : 'a Bayesian LSTM returns h only (returnState must be false)',
      );
    }
  }
  for (const key of ['dropout', 'recurrentDropout'] as const) {
    const v = a[key];
    if (v !== undefined && v !== 0) {
      throw new ArgumentError(
        key,
        `expected 0 (the weight posterior replaces dropout in a Bayesian LSTM), got ${String(v)}`,
      );
    }
  }
  const u = a.units;
  if (typeof u !== 'number' || !Number.isInteger(u) || u < 1) {
    throw new ArgumentError(
      'units',
      `expected an integer >= 1 (the hidden size), got ${String(u)}`,
    );
  }
  if (a.useBias !== undefined && a.hasBias !== undefined && a.useBias !== a.hasBias) {
    throw new ArgumentError(
      'useBias',
      `and hasBias name the same argument; got ${String(a.useBias)} and ${String(a.hasBias)}`,
    );
  }
  const {
    units: _u,
    useBias,
    recurrentActivation: _ra,
    returnSequences: _rs,
    goBackwards: _gb,
    unitForgetBias: _uf,
    stateful: _s,
    returnState: _rst,
    dropout: _d,
    recurrentDropout: _rd,
    unroll: _un,
    implementation: _im,
    ...rest
  } = a;
  return {
    ...rest,
    outChannels: 4 * u,
    hasBias: a.hasBias ?? useBias ?? true,
    activation: a.activation === undefined ? 'tanh' : a.activation,
  };
}

/** The sampled pieces of one call: the kernel's input and hidden rows and the bias. */
interface StepMaps {
  /** Gate pre-activations of all inputs, `[batch, T, 4u]` (bias included); `variance` for `'local'`. */
  readonly xMean: tf.Tensor;
  readonly xVariance: tf.Tensor | null;
  /** `h -> contribution of h to z_t` (mean part), `[batch, 4u]`. */
  readonly hMean: (h: tf.Tensor) => tf.Tensor;
  /** `h -> variance of h's contribution` (`'local'` only). */
  readonly hVariance: ((h: tf.Tensor) => tf.Tensor) | null;
}

/** `x [B, T, c] @ w [c, n] -> [B, T, n]`. */
function seqMatMul(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const [b, t, c] = x.shape as [number, number, number];
  const n = w.shape[1] as number;
  return tf.reshape(tf.matMul(tf.reshape(x, [b * t, c]), w as tf.Tensor2D), [b, t, n]);
}

/** Bayesian LSTM layer; the concrete classes (one per estimator) are made in `bayesian_classes.ts`. */
export class LSTMVariational extends BayesianLayer {
  /** Hidden size (width of `h_t`); `outChannels = 4 units`. */
  readonly units: number;
  /** Canonical gate activation name. */
  readonly recurrentActivation: string;
  /** Whether every `h_t` is returned. */
  readonly returnSequences: boolean;
  /** Whether the sequence is read backwards. */
  readonly goBackwards: boolean;
  /** Whether the forget-gate bias means start at 1. */
  readonly unitForgetBias: boolean;

  /** @param args see {@link LSTMVariationalArgs}; a bias by default. */
  constructor(args: LSTMVariationalArgs) {
    super(toBaseArgs(args), true);
    this.units = args.units;
    this.recurrentActivation = normalizeActivation(
      args.recurrentActivation === undefined ? 'hardSigmoid' : args.recurrentActivation,
    );
    this.returnSequences = booleanOption(args.returnSequences, 'returnSequences', false);
    this.goBackwards = booleanOption(args.goBackwards, 'goBackwards', false);
    this.unitForgetBias = booleanOption(args.unitForgetBias, 'unitForgetBias', true);
    this.supportsMasking = true;
  }

  protected channelsOf(inputShape: tf.Shape | number[]): number {
    const c = inputShape[2];
    if (inputShape.length !== 3 || c === null || c === undefined) {
      throw new ArgumentError(
        'inputs',
        `layer '${this.name}' expects inputs of shape [batch, timeSteps, inChannels] with a ` +
          `known last dimension, got [${inputShape.map((d) => (d === null ? 'null' : d)).join(', ')}]`,
      );
    }
    return c;
  }

  protected kernelShape(inChannels: number): number[] {
    return [inChannels + this.units, 4 * this.units];
  }

  /** `[x, h] K` of one step (the map of the kernel; the recurrence is in {@link call}). */
  protected linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    return tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    super.build(inputShape);
    if (this.unitForgetBias && this.biasMu !== null) {
      const u = this.units;
      const b = this.biasMu;
      const next = tf.tidy(() => {
        const v = b.read();
        return tf.concat([tf.slice(v, [0], [u]), tf.ones([u]), tf.slice(v, [2 * u], [2 * u])]);
      });
      b.write(next);
      next.dispose();
    }
  }

  /** The sampled kernel/bias maps of one call (see the module documentation). */
  private stepMaps(x: tf.Tensor): StepMaps {
    const { kernelMu, kernelRho } = this.variables();
    const inC = x.shape[2] as number;
    const u = this.units;
    const rows = (k: tf.Tensor): [tf.Tensor, tf.Tensor] => [
      tf.slice(k, [0, 0], [inC, 4 * u]),
      tf.slice(k, [inC, 0], [u, 4 * u]),
    ];
    const mu = kernelMu.read();
    const sample = this.mode === 'sample';
    let bias: tf.Tensor | null = null;
    if (this.biasMu !== null && this.biasRho !== null) {
      bias = sample ? softplusReparam(this.biasMu.read(), this.biasRho.read()) : this.biasMu.read();
    }
    const withBias = (t: tf.Tensor): tf.Tensor => (bias === null ? t : tf.add(t, bias));
    const estimator = this.estimatorName();
    if (!sample || estimator === 'reparam') {
      const [w, uK] = rows(sample ? softplusReparam(mu, kernelRho.read()) : mu);
      const hMean = (h: tf.Tensor): tf.Tensor => tf.matMul(h as tf.Tensor2D, uK as tf.Tensor2D);
      return { xMean: withBias(seqMatMul(x, w)), xVariance: null, hMean, hVariance: null };
    }
    const [wMu, uMu] = rows(mu);
    const meanH = (h: tf.Tensor): tf.Tensor => tf.matMul(h as tf.Tensor2D, uMu as tf.Tensor2D);
    if (estimator === 'local') {
      const [wVar, uVar] = rows(softplusSquare(kernelRho.read()));
      return {
        xMean: withBias(seqMatMul(x, wMu)),
        xVariance: seqMatMul(tf.square(x), wVar),
        hMean: meanH,
        hVariance: (h) => tf.matMul(tf.square(h) as tf.Tensor2D, uVar as tf.Tensor2D),
      };
    }
    // flipout: one perturbation, signs per example fixed over time
    const batch = x.shape[0] as number;
    const delta = tf.mul(tf.softplus(kernelRho.read()), standardNormal(mu.shape));
    const [dW, dU] = rows(delta);
    const sIn = rademacher([batch, inC + u]);
    const sOut = rademacher([batch, 4 * u]);
    const sInX = tf.slice(sIn, [0, 0], [batch, inC]);
    const sInH = tf.slice(sIn, [0, inC], [batch, u]);
    const xPert = tf.mul(seqMatMul(tf.mul(x, tf.expandDims(sInX, 1)), dW), tf.expandDims(sOut, 1));
    const hMean = (h: tf.Tensor): tf.Tensor =>
      tf.add(
        tf.matMul(h as tf.Tensor2D, uMu as tf.Tensor2D),
        tf.mul(tf.matMul(tf.mul(h, sInH) as tf.Tensor2D, dU as tf.Tensor2D), sOut),
      );
    return {
      xMean: withBias(tf.add(seqMatMul(x, wMu), xPert)),
      xVariance: null,
      hMean,
      hVariance: null,
    };
  }

  private estimatorName(): Estimator {
    const estimator = (this.constructor as typeof BayesianLayer).estimator;
    if (estimator === undefined) {
      throw new DeepProbError(
        `${this.getClassName()}: no estimator (use a class of the estimator registry, e.g. LSTMReparam)`,
      );
    }
    return estimator;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      if (Array.isArray(inputs) && inputs.length !== 1) {
        throw new ArgumentError(
          'inputs',
          `layer '${this.name}' expects exactly one input tensor (initial states are not supported)`,
        );
      }
      const raw = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
      this.checkInput(raw);
      if (raw.shape[1] === 0) {
        throw new ArgumentError('inputs', `layer '${this.name}' needs at least one time step`);
      }
      const x = this.goBackwards ? tf.reverse(raw, 1) : raw;
      const steps = this.maskSteps(kwargs['mask'], raw);
      const maps = this.stepMaps(x);
      const xMeans = tf.unstack(maps.xMean, 1);
      const xVars = maps.xVariance === null ? null : tf.unstack(maps.xVariance, 1);
      const batch = x.shape[0] as number;
      const u = this.units;
      let h: tf.Tensor = tf.zeros([batch, u]);
      let c: tf.Tensor = tf.zeros([batch, u]);
      const outputs: tf.Tensor[] = [];
      const act = (t: tf.Tensor): tf.Tensor => applyActivation(this.activation, t);
      const rec = (t: tf.Tensor): tf.Tensor => applyActivation(this.recurrentActivation, t);
      xMeans.forEach((xm, t) => {
        const mean = tf.add(xm, maps.hMean(h));
        const z =
          xVars !== null && maps.hVariance !== null
            ? localReparamSample(
                mean,
                tf.add(xVars[t] as tf.Tensor, maps.hVariance(h)),
                LOCAL_REPARAM_MIN_VARIANCE,
              )
            : mean;
        const [zi, zf, zc, zo] = tf.split(z, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const cNew = tf.add(tf.mul(rec(zf), c), tf.mul(rec(zi), act(zc)));
        const hNew = tf.mul(rec(zo), act(cNew));
        const m = steps?.[t];
        // a masked step keeps the previous state (and repeats the previous output), as tfjs
        c = m === undefined ? cNew : tf.add(c, tf.mul(m, tf.sub(cNew, c)));
        h = m === undefined ? hNew : tf.add(h, tf.mul(m, tf.sub(hNew, h)));
        outputs.push(h);
      });
      return this.returnSequences ? tf.stack(outputs, 1) : h;
    });
  }

  /**
   * The per-step masks `[batch, 1]` (1 = step used) of a mask `[batch, T]` passed by tfjs (a
   * `Masking` layer or an `Embedding` with `maskZero`), in processing order; null without one.
   */
  private maskSteps(mask: unknown, x: tf.Tensor): tf.Tensor[] | null {
    const m = Array.isArray(mask) ? (mask[0] as unknown) : mask;
    if (!(m instanceof tf.Tensor)) return null;
    const [b, t] = x.shape;
    if (m.rank !== 2 || m.shape[0] !== b || m.shape[1] !== t) {
      throw new ArgumentError(
        'mask',
        `layer '${this.name}' expects a mask of shape [${b}, ${t}], got [${m.shape.join(', ')}]`,
      );
    }
    const f = tf.cast(tf.cast(m, 'bool'), 'float32');
    return tf.unstack(this.goBackwards ? tf.reverse(f, 1) : f, 1).map((s) => tf.expandDims(s, 1));
  }

  /** The output mask: the input mask with `returnSequences`, none otherwise (as tfjs). */
  override computeMask(
    inputs: tf.Tensor | tf.Tensor[],
    mask?: tf.Tensor | tf.Tensor[],
  ): tf.Tensor | tf.Tensor[] {
    void inputs;
    const m = Array.isArray(mask) ? mask[0] : mask;
    // tfjs's own layers return null for "no mask" behind this signature
    return (this.returnSequences && m !== undefined ? m : null) as unknown as tf.Tensor;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const b = shape[0] ?? null;
    return this.returnSequences ? [b, shape[1] ?? null, this.units] : [b, this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { outChannels: _o, hasBias, ...config } = super.getConfig();
    const { units, recurrentActivation, returnSequences, goBackwards, unitForgetBias } = this;
    return {
      ...config,
      useBias: hasBias ?? true,
      units,
      recurrentActivation,
      returnSequences,
      goBackwards,
      unitForgetBias,
    };
  }
}
