import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  klSoftplusNormal,
  localReparamSample,
  softplusReparam,
  softplusSquare,
} from '../../src/backend/fused.js';
import { randomNormal } from '../../src/backend/random.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';
import { onCpu, randTensor, rng } from './reference.js';

/** Composed reference: the same seeded noise through stock tfjs ops, and its gradients. */
function reparamReference(mu: tf.Tensor, rho: tf.Tensor, seed: number, dy: tf.Tensor) {
  return tf.tidy(() => {
    const eps = randomNormal(mu.shape, 0, 1, seed);
    const f = (m: tf.Tensor, r: tf.Tensor) => tf.add(m, tf.mul(tf.softplus(r), eps));
    const { value, grads } = tf.valueAndGrads(f)([mu, rho], dy);
    return [value, ...grads] as tf.Tensor[];
  });
}

describe('fused variational kernels', () => {
  const r = rng(5);
  const mu = randTensor(r, [7, 13]);
  // rho over a wide range, including the large-rho branch of softplus
  const rho = tf.tidy(() => tf.mul(randTensor(r, [7, 13]), 8));
  const dy = randTensor(r, [7, 13]);

  it('softplusReparam equals mu + softplus(rho) * eps with the same seeded eps, and its gradients', () => {
    const [v, gm, gr] = reparamReference(mu, rho, 99, dy) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const fusedOut = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((m: tf.Tensor, rr: tf.Tensor) =>
        softplusReparam(m, rr, 99),
      )([mu, rho], dy);
      return [value, ...grads];
    });
    expect(fusedOut[0]).toBeAllclose(v, { rtol: 1e-5, atol: 1e-6 });
    expect(fusedOut[1]).toBeAllclose(gm, { rtol: 1e-6 });
    expect(fusedOut[2]).toBeAllclose(gr, { rtol: 1e-4, atol: 1e-6 });
    tf.dispose([v, gm, gr, ...fusedOut]);
  });

  it('softplusReparam gives the same values on the cpu backend, and leaks nothing', async () => {
    const wasm = expectNoLeak(() => softplusReparam(mu, rho, 7));
    const mc = await mu.data();
    const rc = await rho.data();
    const cpu = await onCpu(() =>
      tf.tidy(() =>
        Array.from(softplusReparam(tf.tensor(mc, [7, 13]), tf.tensor(rc, [7, 13]), 7).dataSync()),
      ),
    );
    expect(cpu).toBeAllclose(wasm, { rtol: 1e-6, atol: 1e-7 });
    expectNoLeak(() => {
      const g = tf.grads((m: tf.Tensor, rr: tf.Tensor) => tf.sum(softplusReparam(m, rr)))([
        mu,
        rho,
      ]);
      tf.dispose(g);
    });
  });

  it('klSoftplusNormal matches the closed form summed in float64 and finite differences', () => {
    const m = Array.from(mu.dataSync());
    const rr = Array.from(rho.dataSync()).map((x) => x / 4);
    const centre = m.map((_, i) => 0.01 * i - 0.3);
    const sp = 0.37;
    const kl64 = (mm: number[], rh: number[], c: (i: number) => number) =>
      mm.reduce((acc, mi, i) => {
        const s = Math.log1p(Math.exp(rh[i] as number));
        const d = mi - c(i);
        return acc + Math.log(sp / s) + (s * s + d * d) / (2 * sp * sp) - 0.5;
      }, 0);
    for (const scalar of [true, false]) {
      const c = (i: number) => (scalar ? 0.2 : (centre[i] as number));
      const prior = scalar ? 0.2 : tf.tensor(centre, [7, 13]);
      const muT = tf.tensor(m, [7, 13]);
      const rhoT = tf.tensor(rr, [7, 13]);
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
        klSoftplusNormal(a, b, prior, sp),
      )([muT, rhoT]);
      expect(value).toBeAllclose(kl64(m, rr, c), { rtol: 1e-5 });
      const idx = [0, 5, 40, 90];
      const fdMu = finiteDiff((x) => kl64(x, rr, c), m, 1e-4);
      const fdRho = finiteDiff((x) => kl64(m, x, c), rr, 1e-4);
      const gMu = grads[0]!.dataSync();
      const gRho = grads[1]!.dataSync();
      for (const i of idx) {
        expect(gMu[i]).toBeAllclose(fdMu[i]!, { rtol: 1e-3, atol: 1e-4 });
        expect(gRho[i]).toBeAllclose(fdRho[i]!, { rtol: 1e-3, atol: 1e-4 });
      }
      tf.dispose([value, ...grads, muT, rhoT]);
      if (prior instanceof tf.Tensor) prior.dispose();
    }
  });

  it('localReparamSample equals mean + sqrt(max(v, floor)) * eps, with the maximum subgradient', () => {
    const mean = randTensor(r, [4, 6, 5]);
    // variances with some exact zeros (below the floor) to check the masked gradient
    const variance = tf.tidy(() => tf.relu(randTensor(r, [4, 6, 5])));
    const g = randTensor(r, [4, 6, 5]);
    const floor = 1e-6;
    const ref = tf.tidy(() => {
      const eps = randomNormal(mean.shape, 0, 1, 3);
      const f = (m: tf.Tensor, v: tf.Tensor) =>
        tf.add(m, tf.mul(tf.sqrt(tf.maximum(v, floor)), eps));
      const { value, grads } = tf.valueAndGrads(f)([mean, variance], g);
      return [value, ...grads];
    });
    const out = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((m: tf.Tensor, v: tf.Tensor) =>
        localReparamSample(m, v, floor, 3),
      )([mean, variance], g);
      return [value, ...grads];
    });
    for (let i = 0; i < 3; i++) expect(out[i]).toBeAllclose(ref[i]!, { rtol: 1e-5, atol: 1e-6 });
    expectNoLeak(() => localReparamSample(mean, variance, floor));
    tf.dispose([mean, variance, g, ...ref, ...out]);
  });

  it('klSoftplusNormal and its gradients leak nothing', () => {
    expectNoLeak(() => klSoftplusNormal(mu, rho, 0.1, 0.5));
    expectNoLeak(() => {
      const g = tf.grads((m: tf.Tensor, rr: tf.Tensor) => klSoftplusNormal(m, rr, 0, 0.2))([
        mu,
        rho,
      ]);
      tf.dispose(g);
    });
  });

  it('rejects mismatched shapes and bad priors/floors by name', () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([3, 2]);
    expect(() => softplusReparam(a, b)).toThrow(/rho/);
    expect(() => klSoftplusNormal(a, a, 0, 0)).toThrow(/priorSigma/);
    expect(() => klSoftplusNormal(a, a, b, 1)).toThrow(/priorMu/);
    expect(() => localReparamSample(a, b, 1e-6)).toThrow(/variance/);
    expect(() => localReparamSample(a, a, 0)).toThrow(/floor/);
    tf.dispose([a, b]);
  });
});

describe('fused kernels: gradients to every input', () => {
  it('KL gradient w.r.t. the prior means is -dKL/dmu (summed for a scalar), as the composed op', () => {
    const r = rng(8);
    const mu = randTensor(r, [3, 4]);
    const rho = randTensor(r, [3, 4]);
    for (const c of [tf.scalar(0.2), randTensor(r, [3, 4])]) {
      const [gMu, gC] = tf.grads((m: tf.Tensor, cc: tf.Tensor) =>
        klSoftplusNormal(m, rho, cc, 0.5),
      )([mu, c]);
      const want = c.size === 1 ? tf.neg(tf.sum(gMu as tf.Tensor)) : tf.neg(gMu as tf.Tensor);
      expect(gC).toBeAllclose(want, { rtol: 1e-5 });
      tf.dispose([gMu, gC, want, c]);
    }
    tf.dispose([mu, rho]);
  });
});

describe('softplusSquare', () => {
  it('equals softplus(rho)^2 with its gradient (SIMD, JS loop, composed), and runs fused', async () => {
    const r = rng(21);
    const rho = tf.tidy(() => tf.mul(randTensor(r, [5, 7]), 10));
    const dy = randTensor(r, [5, 7]);
    const ref = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => tf.square(tf.softplus(x)))(
        [rho],
        dy,
      );
      return [value, ...grads];
    });
    const got = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => softplusSquare(x))([rho], dy);
      return [value, ...grads];
    });
    expect(got[0]).toBeAllclose(ref[0]!, { rtol: 1e-5, atol: 1e-7 });
    expect(got[1]).toBeAllclose(ref[1]!, { rtol: 1e-5, atol: 1e-7 });
    const prof = await tf.profile(() => {
      tf.grad((x: tf.Tensor) => softplusSquare(x))(rho, dy).dispose();
    });
    expect(prof.kernelNames).toEqual(
      expect.arrayContaining(['DeepprobSoftplusSquare', 'DeepprobSoftplusSquareGrad']),
    );
    expectNoLeak(() => softplusSquare(rho));
    tf.dispose([rho, dy, ...ref, ...got]);
  });
});
