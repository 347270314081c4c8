/**
 * Fused ops of the mean-field Gaussian variational estimators. Each runs one kernel of deepprob's
 * pack forward and one backward where the backend has it (wasm, cpu), and the equivalent composed
 * tfjs ops elsewhere (webgl, webgpu, tensorflow, or `DEEPPROB_KERNELS=stock`). Both paths take the
 * same seeded noise on wasm/cpu, so results agree to float32 rounding.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';
import { randomNormal } from './random.js';
import {
  KL_SOFTPLUS_NORMAL,
  KL_NORMAL_GRAD_MU,
  KL_SOFTPLUS_GRAD_RHO,
  LOCAL_REPARAM,
  LOCAL_REPARAM_GRAD,
  SOFTPLUS_REPARAM,
  SOFTPLUS_REPARAM_GRAD,
  SOFTPLUS_SQUARE,
  SOFTPLUS_SQUARE_GRAD,
} from './kernels/variational.js';

/**
 * Gradients of the fused kernels, registered once (they run only where the forward kernel ran).
 * `DeepprobSoftplusReparam`: d/dmu = dy, d/drho = dy eps sigmoid(rho), d/deps = dy softplus(rho).
 * `DeepprobKLSoftplusNormal`: one kernel per gradient; d/dc = -d/dmu (summed for a scalar c).
 */
function registerGradients(): void {
  tf.registerGradient({
    kernelName: SOFTPLUS_REPARAM,
    inputsToSave: ['rho', 'eps'],
    gradFunc: (dy, saved) => {
      const [rho, eps] = saved as [tf.Tensor, tf.Tensor];
      const g = f32(dy as tf.Tensor);
      return {
        mu: () => g.clone(),
        rho: () => tf.engine().runKernel(SOFTPLUS_REPARAM_GRAD, { dy: g, eps, rho }) as tf.Tensor,
        eps: () => tf.mul(g, tf.softplus(rho)),
      };
    },
  });
  tf.registerGradient({
    kernelName: KL_SOFTPLUS_NORMAL,
    inputsToSave: ['mu', 'rho', 'centre'],
    gradFunc: (dy, saved, a) => {
      const [mu, rho, centre] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const g = f32(dy as tf.Tensor);
      const e = tf.engine();
      return {
        mu: () => e.runKernel(KL_NORMAL_GRAD_MU, { dy: g, mu, centre }, a) as tf.Tensor,
        rho: () => e.runKernel(KL_SOFTPLUS_GRAD_RHO, { dy: g, rho }, a) as tf.Tensor,
        // d/dc = -d/dmu, summed when the prior mean is one scalar
        centre: () => {
          const dmu = e.runKernel(KL_NORMAL_GRAD_MU, { dy: g, mu, centre }, a) as tf.Tensor;
          return centre.size === 1 ? tf.reshape(tf.neg(tf.sum(dmu)), centre.shape) : tf.neg(dmu);
        },
      };
    },
  });
  tf.registerGradient({
    kernelName: SOFTPLUS_SQUARE,
    inputsToSave: ['rho'],
    gradFunc: (dy, saved) => {
      const [rho] = saved as [tf.Tensor];
      const g = f32(dy as tf.Tensor);
      return {
        rho: () => tf.engine().runKernel(SOFTPLUS_SQUARE_GRAD, { dy: g, rho }) as tf.Tensor,
      };
    },
  });
}
registerGradients();

/** Whether the current backend has the fused kernel `name`. */
function fused(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

function attrs(a: Record<string, number>): tf.NamedAttrMap {
  return a as unknown as tf.NamedAttrMap;
}

function sameShape(a: tf.Tensor, b: tf.Tensor, names: [string, string]): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ArgumentError(
      names[1],
      `expected the shape of ${names[0]} [${a.shape.join(', ')}], got [${b.shape.join(', ')}]`,
    );
  }
}

/** A two-input op with a custom gradient (typed wrapper of `tf.customGrad`). */
type Custom2 = (
  a: tf.Tensor,
  b: tf.Tensor,
  save: tf.GradSaveFunc,
) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

function customGrad2(f: Custom2): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) =>
    f(args[0] as tf.Tensor, args[1] as tf.Tensor, args[2] as tf.GradSaveFunc),
  );
  return (a, b) => g(a, b);
}

function f32(t: tf.Tensor): tf.Tensor {
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/**
 * A reparameterized draw of `w ~ N(mu, softplus(rho)^2)`:
 * `w = mu + softplus(rho) * eps`, `eps ~ N(0, I)` drawn inside the kernel,
 * with gradients `dw/dmu = 1`, `dw/drho = eps * sigmoid(rho)`.
 *
 * @param mu means.
 * @param rho raw scales (`sigma = softplus(rho) = log(1 + e^rho)`), the shape of `mu`.
 * @param seed integer seed of the noise (default: the global stream, `setSeed`).
 * @returns a new tensor of `mu`'s shape.
 * @example
 * ```ts
 * const w = softplusReparam(kernelMu, kernelRho); // one weight sample per call
 * ```
 */
export function softplusReparam(mu: tf.Tensor, rho: tf.Tensor, seed?: number): tf.Tensor {
  sameShape(mu, rho, ['mu', 'rho']);
  const s = nextSeed(seed) >>> 0;
  return tf.tidy(() => {
    const eps = randomNormal(mu.shape, 0, 1, s);
    if (!fused(SOFTPLUS_REPARAM)) return tf.add(mu, tf.mul(tf.softplus(rho), eps));
    return tf
      .engine()
      .runKernel(SOFTPLUS_REPARAM, { mu: f32(mu), rho: f32(rho), eps }) as tf.Tensor;
  });
}

/**
 * `KL(N(mu, softplus(rho)^2) || N(c, s_p^2))` summed over all elements:
 * `sum_i log(s_p / s_i) + (s_i^2 + (mu_i - c_i)^2) / (2 s_p^2) - 1/2`, `s_i = softplus(rho_i)`,
 * differentiable in `mu` and `rho` (`c` is treated as a constant).
 *
 * @param mu posterior means.
 * @param rho posterior raw scales, the shape of `mu`.
 * @param priorMu prior mean: a number or scalar tensor, or a tensor of `mu`'s shape (one per weight).
 * @param priorSigma prior standard deviation `s_p > 0`.
 * @returns a new scalar.
 * @example
 * ```ts
 * const kl = klSoftplusNormal(kernelMu, kernelRho, 0, 0.1);
 * ```
 */
export function klSoftplusNormal(
  mu: tf.Tensor,
  rho: tf.Tensor,
  priorMu: number | tf.Tensor,
  priorSigma: number,
): tf.Scalar {
  sameShape(mu, rho, ['mu', 'rho']);
  if (priorMu instanceof tf.Tensor && priorMu.rank > 0) sameShape(mu, priorMu, ['mu', 'priorMu']);
  if (!(priorSigma > 0) || !Number.isFinite(priorSigma)) {
    throw new ArgumentError('priorSigma', `expected a finite number > 0, got ${priorSigma}`);
  }
  return tf.tidy(() => {
    const centre = priorMu instanceof tf.Tensor ? f32(priorMu) : tf.scalar(priorMu);
    if (!fused(KL_SOFTPLUS_NORMAL)) {
      const s = tf.softplus(rho);
      const v = priorSigma * priorSigma;
      const terms = tf.sub(
        tf.div(tf.add(tf.square(s), tf.square(tf.sub(mu, centre))), 2 * v),
        tf.log(s),
      );
      return tf.add(tf.sum(terms), mu.size * (Math.log(priorSigma) - 0.5)) as tf.Scalar;
    }
    return tf
      .engine()
      .runKernel(
        KL_SOFTPLUS_NORMAL,
        { mu: f32(mu), rho: f32(rho), centre },
        attrs({ priorSigma }),
      ) as tf.Scalar;
  });
}

/**
 * The posterior variances `sigma^2 = softplus(rho)^2 = log(1 + e^rho)^2`, with gradient
 * `d/drho = 2 softplus(rho) sigmoid(rho)` (one kernel each way where the backend has it).
 *
 * @param rho raw scales.
 * @returns a new tensor of `rho`'s shape.
 * @example
 * ```ts
 * const variance = softplusSquare(kernelRho);
 * ```
 */
export function softplusSquare(rho: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    fused(SOFTPLUS_SQUARE)
      ? (tf.engine().runKernel(SOFTPLUS_SQUARE, { rho: f32(rho) }) as tf.Tensor)
      : tf.square(tf.softplus(rho)),
  );
}

/**
 * A local-reparameterization draw of Gaussian pre-activations:
 * `out = mean + sqrt(max(variance, floor)) * eps`, `eps ~ N(0, I)` drawn inside the kernel, with
 * gradients `d/dmean = 1`, `d/dvariance = eps / (2 sqrt(variance))` where `variance >= floor`
 * (0 below the floor).
 *
 * @param mean pre-activation means.
 * @param variance pre-activation variances (`>= 0`), the shape of `mean`.
 * @param floor variance floor `> 0` before the square root (keeps gradients finite).
 * @param seed integer seed of the noise (default: the global stream).
 * @returns a new tensor of `mean`'s shape.
 * @example
 * ```ts
 * const y = localReparamSample(tf.matMul(x, mu), tf.matMul(tf.square(x), tf.square(sigma)), 1e-16);
 * ```
 */
export function localReparamSample(
  mean: tf.Tensor,
  variance: tf.Tensor,
  floor: number,
  seed?: number,
): tf.Tensor {
  sameShape(mean, variance, ['mean', 'variance']);
  if (!(floor > 0) || !Number.isFinite(floor)) {
    throw new ArgumentError('floor', `expected a finite number > 0, got ${floor}`);
  }
  const s = nextSeed(seed) >>> 0;
  if (!fused(LOCAL_REPARAM)) {
    return tf.tidy(() =>
      tf.add(mean, tf.mul(tf.sqrt(tf.maximum(variance, floor)), randomNormal(mean.shape, 0, 1, s))),
    );
  }
  const op = customGrad2((m, v, save) => {
    const [out, eps] = tf
      .engine()
      .runKernel(LOCAL_REPARAM, { mean: m, variance: v }, attrs({ seed: s, floor })) as tf.Tensor[];
    save([eps as tf.Tensor, v]);
    (eps as tf.Tensor).dispose();
    return {
      value: out as tf.Tensor,
      gradFunc: (dy, saved) => [
        dy.clone(),
        tf
          .engine()
          .runKernel(
            LOCAL_REPARAM_GRAD,
            { dy: f32(dy), eps: saved[0] as tf.Tensor, variance: saved[1] as tf.Tensor },
            attrs({ floor }),
          ) as tf.Tensor,
      ],
    };
  });
  return tf.tidy(() => op(f32(mean), f32(variance)));
}
