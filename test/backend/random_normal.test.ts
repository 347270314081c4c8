import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import { randomNormal } from '../../src/backend/random.js';
import { fillNormal } from '../../src/backend/kernels/random_normal.js';
import { setSeed, clearSeed } from '../../src/index.js';

function ks(sorted: Float64Array, cdf: (x: number) => number): number {
  const n = sorted.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i] as number);
    d = Math.max(d, Math.abs(f - i / n), Math.abs((i + 1) / n - f));
  }
  return d;
}

describe('randomNormal (ziggurat kernel)', () => {
  it('runs as a backend kernel and leaks nothing', () => {
    expect(tf.getKernel('DeepprobRandomNormal', tf.getBackend())).toBeDefined();
    const before = tf.memory().numTensors;
    const x = randomNormal([3, 4], 2, 0.5, 1);
    expect(x.shape).toEqual([3, 4]);
    expect(x.dtype).toBe('float32');
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has N(0,1) moments, tails and distribution (KS test against @stdlib)', () => {
    const n = 200_000;
    const t = randomNormal([n], 0, 1, 12345);
    const v = Float64Array.from(t.dataSync());
    t.dispose();
    let m = 0;
    for (const a of v) m += a;
    m /= n;
    let s2 = 0;
    let tail = 0;
    for (const a of v) {
      s2 += (a - m) ** 2;
      if (Math.abs(a) > 3) tail++;
    }
    s2 /= n - 1;
    expect(Math.abs(m)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    // P(|z| > 3) = 0.0026998
    const pTail = 0.0026998;
    expect(Math.abs(tail - n * pTail)).toBeLessThan(5 * Math.sqrt(n * pTail));
    v.sort();
    // KS critical value at the 0.1% level: 1.95 / sqrt(n)
    expect(ks(v, (x) => normalRef.cdf(x, 0, 1))).toBeLessThan(1.95 / Math.sqrt(n));
  });

  it('applies mean and stdDev', () => {
    const n = 50_000;
    const t = randomNormal([n], -3, 2, 7);
    const v = t.dataSync();
    let m = 0;
    for (const a of v) m += a;
    m /= n;
    let s2 = 0;
    for (const a of v) s2 += (a - m) ** 2;
    expect(Math.abs(m + 3)).toBeLessThan(5 * (2 / Math.sqrt(n)));
    expect(Math.abs(Math.sqrt(s2 / (n - 1)) - 2)).toBeLessThan(0.05);
    t.dispose();
  });

  it('is reproducible by seed and by setSeed, and seeds differ', () => {
    const a = randomNormal([1000], 0, 1, 99);
    const b = randomNormal([1000], 0, 1, 99);
    const c = randomNormal([1000], 0, 1, 100);
    expect(a).toBeAllclose(b, { rtol: 0, atol: 0 });
    const ac = a.dataSync();
    const cc = c.dataSync();
    let same = 0;
    for (let i = 0; i < 1000; i++) if (ac[i] === cc[i]) same++;
    expect(same).toBeLessThan(5);
    setSeed(5);
    const d = randomNormal([100]);
    setSeed(5);
    const e = randomNormal([100]);
    clearSeed();
    expect(d).toBeAllclose(e, { rtol: 0, atol: 0 });
    tf.dispose([a, b, c, d, e]);
  });

  it('successive draws are uncorrelated', () => {
    const out = new Float32Array(100_000);
    fillNormal(out, 3);
    let c = 0;
    for (let i = 1; i < out.length; i++) c += (out[i] as number) * (out[i - 1] as number);
    expect(Math.abs(c / out.length)).toBeLessThan(5 / Math.sqrt(out.length));
  });

  it('rejects bad arguments', () => {
    expect(() => randomNormal([2, -1])).toThrow(/shape/);
    expect(() => randomNormal([2], 0, 0)).toThrow(/stdDev/);
    expect(() => randomNormal([2], NaN)).toThrow(/mean/);
  });
});

describe('float64 exp/log of the ziggurat slow path', () => {
  it('agree with Math.exp / Math.log to ~2 ulp over the ranges used', async () => {
    const { zigExp, zigLog } = await import('../../src/backend/kernels/random_normal.js');
    for (let i = 0; i <= 2000; i++) {
      const x = -8 + (8 * i) / 2000; // -x^2/2 for x < 3.5 and a margin
      expect(Math.abs(zigExp(x) - Math.exp(x))).toBeLessThanOrEqual(4.5e-16 * Math.exp(x));
      const u = (i + 0.5) / 2001; // uniforms in (0, 1)
      expect(Math.abs(zigLog(u) - Math.log(u))).toBeLessThanOrEqual(
        4.5e-16 * Math.abs(Math.log(u)) + 1e-300,
      );
      const big = 0.01 + i * 3.7; // prior scales
      expect(Math.abs(zigLog(big) - Math.log(big))).toBeLessThanOrEqual(
        4.5e-16 * Math.abs(Math.log(big)) + 2.3e-16,
      );
    }
  });
});
