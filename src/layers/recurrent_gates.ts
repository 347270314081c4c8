/**
 * The sampled gate inputs of one call of a Bayesian recurrent layer ({@link RecurrentVariational}):
 * for the kernel `K = [W; U]` (`[in + units, g units]`) and the bias `b`, the pre-activations of a
 * column block `C` at step `t`, `z_C = x_t W_C + v U_C + b_C`, per estimator:
 * - `'reparam'` (and `mode: 'mean'`, with `K = mu`): one `K = mu + σ ⊙ ε` for all steps;
 * - `'flipout'`: `z = [x_t,v] mu + (([x_t,v] ⊙ s_in) ΔK) ⊙ s_out + b`, `ΔK = σ ⊙ ε` and the
 *   Rademacher signs fixed over time;
 * - `'local'`: `z = [x_t,v] mu + sqrt([x_t,v]^2 σ^2) ⊙ ε_t + b`, fresh `ε_t` per step and block.
 */
import * as tf from '@tensorflow/tfjs';
import { localReparamSample, softplusReparam, softplusSquare } from '../backend/fused.js';
import { type Estimator } from './estimator_registry.js';
import { LOCAL_REPARAM_MIN_VARIANCE, rademacher, standardNormal } from './estimators.js';

/**
 * The pre-activations of the column block `[from, from + size)` at step `t` from the recurrent
 * input `v` `[batch, units]` (sampled per the estimator; see the module documentation).
 */
export type GateInput = (t: number, v: tf.Tensor, from: number, size: number) => tf.Tensor;

/** `x [B, T, c] @ w [c, n] -> [B, T, n]`. */
function seqMatMul(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const [b, t, c] = x.shape as [number, number, number];
  const n = w.shape[1] as number;
  return tf.reshape(tf.matMul(tf.reshape(x, [b * t, c]), w as tf.Tensor2D), [b, t, n]);
}

/**
 * Columns `[from, from + size)` of a matrix `[rows, n]` (the whole matrix when they are all of it);
 * the per-step slices of a call's fixed matrices are made once (`memo`, keyed by matrix and block).
 */
function columnsOf(): (m: tf.Tensor, from: number, size: number) => tf.Tensor {
  const memo = new Map<tf.Tensor, Map<string, tf.Tensor>>();
  return (m, from, size) => {
    if (from === 0 && size === m.shape[1]) return m;
    const byBlock = memo.get(m) ?? new Map<string, tf.Tensor>();
    memo.set(m, byBlock);
    const key = `${from}:${size}`;
    let slice = byBlock.get(key);
    if (slice === undefined) {
      slice = tf.slice(m, [0, from], [m.shape[0] as number, size]);
      byBlock.set(key, slice);
    }
    return slice;
  };
}

/** What {@link gateInputs} reads of a layer. @internal */
export interface GateParams {
  /** The kernel's posterior means `[in + units, g units]`. */
  kernelMu: tf.LayerVariable;
  /** The kernel's pre-softplus scales `ρ` (`σ = softplus(ρ)`). */
  kernelRho: tf.LayerVariable;
  /** The bias's posterior means, or null without a bias. */
  biasMu: tf.LayerVariable | null;
  /** The bias's pre-softplus scales, or null without a bias. */
  biasRho: tf.LayerVariable | null;
  /** The hidden size. */
  units: number;
  /** The number of gate blocks `g`. */
  gates: number;
  /** Whether weights are drawn (`mode: 'sample'`) rather than their means used. */
  sample: boolean;
  /** The layer's estimator (asked once the bias is drawn). */
  estimatorOf: () => Estimator;
}

/**
 * The sampled gate inputs of one call over the input `x` `[batch, T, in]` (see the module
 * documentation); the bias is drawn once per call. @internal
 */
export function gateInputs(x: tf.Tensor, params: GateParams): GateInput {
  const { kernelMu, kernelRho, biasMu, biasRho, units, gates, sample, estimatorOf } = params;
  const inC = x.shape[2] as number;
  const u = units;
  const n = gates * u;
  const rows = (k: tf.Tensor): [tf.Tensor, tf.Tensor] => [
    tf.slice(k, [0, 0], [inC, n]),
    tf.slice(k, [inC, 0], [u, n]),
  ];
  const mu = kernelMu.read();
  let bias: tf.Tensor | null = null;
  if (biasMu !== null && biasRho !== null) {
    bias = sample ? softplusReparam(biasMu.read(), biasRho.read()) : biasMu.read();
  }
  const withBias = (t: tf.Tensor): tf.Tensor => (bias === null ? t : tf.add(t, bias));
  const estimator = estimatorOf();
  const cols = columnsOf();
  const perStep = (t: tf.Tensor): tf.Tensor[] => tf.unstack(t, 1);
  if (!sample || estimator === 'reparam') {
    const [w, uK] = rows(sample ? softplusReparam(mu, kernelRho.read()) : mu);
    const xs = perStep(withBias(seqMatMul(x, w)));
    return (t, v, from, size) =>
      tf.add(
        cols(xs[t] as tf.Tensor, from, size),
        tf.matMul(v as tf.Tensor2D, cols(uK, from, size) as tf.Tensor2D),
      );
  }
  const [wMu, uMu] = rows(mu);
  const meanV = (v: tf.Tensor, from: number, size: number): tf.Tensor =>
    tf.matMul(v as tf.Tensor2D, cols(uMu, from, size) as tf.Tensor2D);
  if (estimator === 'local') {
    const [wVar, uVar] = rows(softplusSquare(kernelRho.read()));
    const xs = perStep(withBias(seqMatMul(x, wMu)));
    const xv = perStep(seqMatMul(tf.square(x), wVar));
    return (t, v, from, size) =>
      localReparamSample(
        tf.add(cols(xs[t] as tf.Tensor, from, size), meanV(v, from, size)),
        tf.add(
          cols(xv[t] as tf.Tensor, from, size),
          tf.matMul(tf.square(v) as tf.Tensor2D, cols(uVar, from, size) as tf.Tensor2D),
        ),
        LOCAL_REPARAM_MIN_VARIANCE,
      );
  }
  // flipout: one perturbation, signs per example fixed over time
  const batch = x.shape[0] as number;
  const delta = tf.mul(tf.softplus(kernelRho.read()), standardNormal(mu.shape));
  const [dW, dU] = rows(delta);
  const sIn = rademacher([batch, inC + u]);
  const sOut = rademacher([batch, n]);
  const sInX = tf.slice(sIn, [0, 0], [batch, inC]);
  const sInH = tf.slice(sIn, [0, inC], [batch, u]);
  const xPert = tf.mul(seqMatMul(tf.mul(x, tf.expandDims(sInX, 1)), dW), tf.expandDims(sOut, 1));
  const xs = perStep(withBias(tf.add(seqMatMul(x, wMu), xPert)));
  return (t, v, from, size) =>
    tf.add(
      tf.add(cols(xs[t] as tf.Tensor, from, size), meanV(v, from, size)),
      tf.mul(
        tf.matMul(tf.mul(v, sInH) as tf.Tensor2D, cols(dU, from, size) as tf.Tensor2D),
        cols(sOut, from, size),
      ),
    );
}
