/**
 * A fused Adam update for the wasm backend.
 *
 * tfjs's `AdamOptimizer.applyGradients` runs ~14 kernels and 3 assignments per variable; on a
 * BBB network with dozens of small variables, per-kernel dispatch dominates. The pack replaces it
 * (on the wasm backend, float32 variables) by one kernel per variable computing, in float64,
 *
 *   m' = b1 m + (1 - b1) g,   v' = b2 v + (1 - b2) g^2,
 *   x' = x - lr * (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps),
 *
 * the stock update (same state variables, names, `getWeights`/`setWeights`; the running `b^t`
 * multiplies by the double `b` where tfjs multiplies by a float32 scalar, a last-bit difference
 * that `../adam_restore.ts` follows on resume); with the SIMD module loaded the loop runs in float32
 * SIMD (the stock update's own precision).
 */
import * as tf from '@tensorflow/tfjs';
import { simdKernels } from '../simd/loader.js';
import { mapShared } from '../simd/pool.js';
import type { WasmBackend } from './wasm_util.js';

/** Name of the fused kernel (inputs x, m, v, g; outputs x', m', v'). */
export const ADAM_KERNEL = 'DeepprobAdamUpdate';

interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  c1: number;
  c2: number;
}

/** The update loop on flat arrays. */
export function adamLoop(
  x: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  xo: Float32Array,
  mo: Float32Array,
  vo: Float32Array,
  a: AdamAttrs,
): void {
  const { beta1, beta2, epsilon, learningRate, c1, c2 } = a;
  const d1 = 1 - beta1;
  const d2 = 1 - beta2;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i] as number;
    const mi = beta1 * (m[i] as number) + d1 * gi;
    const vi = beta2 * (v[i] as number) + d2 * gi * gi;
    mo[i] = mi;
    vo[i] = vi;
    xo[i] = (x[i] as number) - (learningRate * (mi * c1)) / (Math.sqrt(vi * c2) + epsilon);
  }
}

/** Kernel function of {@link ADAM_KERNEL} on the wasm backend. */
export const adamWasm: tf.KernelConfig['kernelFunc'] = ({ inputs, attrs, backend }) => {
  const be = backend as unknown as WasmBackend;
  const { x, m, v, g } = inputs as Record<'x' | 'm' | 'v' | 'g', tf.TensorInfo>;
  const xo = be.makeOutput(x.shape, 'float32');
  const mo = be.makeOutput(x.shape, 'float32');
  const vo = be.makeOutput(x.shape, 'float32');
  const f = (t: tf.TensorInfo): Float32Array => be.typedArrayFromHeap(t) as Float32Array;
  const a = attrs as unknown as AdamAttrs;
  const k = simdKernels();
  if (k !== undefined) {
    // float32 SIMD (the stock update's arithmetic)
    const p = (t: tf.TensorInfo): number => f(t).byteOffset;
    const n = f(x).length;
    mapShared(k, 'adam', [p(x), p(m), p(v), p(g), p(xo), p(mo), p(vo)], n, [
      a.beta1,
      a.beta2,
      a.epsilon,
      a.learningRate,
      a.c1,
      a.c2,
    ]);
  } else {
    adamLoop(f(x), f(m), f(v), f(g), f(xo), f(mo), f(vo), a);
  }
  return [xo, mo, vo];
};

/** Private state of tfjs 4.22's AdamOptimizer that the fused update reads. */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

/** A named gradient (tfjs-core's NamedTensor, not re-exported by @tensorflow/tfjs). */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

type ApplyGradients = (this: tf.AdamOptimizer, g: tf.NamedTensorMap | NamedTensor[]) => void;

let stockApply: ApplyGradients | undefined;

/** Fused `applyGradients`; falls back to the stock one off wasm or for non-float32 variables. */
function fusedApply(
  this: tf.AdamOptimizer,
  variableGradients: tf.NamedTensorMap | NamedTensor[],
): void {
  const self = this as unknown as AdamInternals;
  const names = Array.isArray(variableGradients)
    ? variableGradients.map((v) => v.name)
    : Object.keys(variableGradients);
  const registered = tf.engine().registeredVariables;
  const usable = fusedBackend() && names.every((n) => registered[n]?.dtype === 'float32');
  if (!usable) {
    (stockApply as ApplyGradients).call(this, variableGradients);
    return;
  }
  tf.tidy(() => {
    const a1 = self.accBeta1.dataSync()[0] as number;
    const a2 = self.accBeta2.dataSync()[0] as number;
    const attrs = {
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      learningRate: self.learningRate,
      c1: 1 / (1 - a1),
      c2: 1 / (1 - a2),
    };
    names.forEach((name, i) => {
      const value = registered[name] as tf.Variable;
      if (self.accumulatedFirstMoment[i] == null) {
        self.accumulatedFirstMoment[i] = {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      if (self.accumulatedSecondMoment[i] == null) {
        self.accumulatedSecondMoment[i] = {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      const g = Array.isArray(variableGradients)
        ? variableGradients[i]?.tensor
        : variableGradients[name];
      if (g == null) return;
      const m = (self.accumulatedFirstMoment[i] as { variable: tf.Variable }).variable;
      const v = (self.accumulatedSecondMoment[i] as { variable: tf.Variable }).variable;
      const gf = g.dtype === 'float32' ? g : tf.cast(g, 'float32');
      const [nx, nm, nv] = tf
        .engine()
        .runKernel(
          ADAM_KERNEL,
          { x: value, m, v, g: gf },
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
      m.assign(nm as tf.Tensor);
      v.assign(nv as tf.Tensor);
      value.assign(nx as tf.Tensor);
    });
    self.accBeta1.assign(tf.scalar(a1 * self.beta1));
    self.accBeta2.assign(tf.scalar(a2 * self.beta2));
  });
  self.incrementIterations();
}

/**
 * Whether {@link installFusedAdam}'s update runs now (installed, wasm backend, kernel registered);
 * it then multiplies the running `beta^t` by the double `beta`, tfjs's update by `fl(beta)`.
 */
export function fusedAdamActive(): boolean {
  return stockApply !== undefined && fusedBackend();
}

/** Whether the fused update runs on the current backend. */
function fusedBackend(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(ADAM_KERNEL, 'wasm') !== undefined;
}

/**
 * Patch `tf.AdamOptimizer.prototype.applyGradients` with the fused update (idempotent). Its state
 * is tfjs's, restored exactly by `adam_restore.ts` (installed on every backend).
 */
export function installFusedAdam(): void {
  if (stockApply !== undefined) return;
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients };
  stockApply = proto.applyGradients;
  proto.applyGradients = fusedApply;
}

/** Undo {@link installFusedAdam} (for comparisons and tests). */
export function uninstallFusedAdam(): void {
  if (stockApply === undefined) return;
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients };
  proto.applyGradients = stockApply;
  stockApply = undefined;
}
