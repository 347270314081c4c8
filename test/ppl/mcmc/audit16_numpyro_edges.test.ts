/**
 * Audit (NumPyro parity): edges a NumPyro user reaches — a killed thinned run resumed from its
 * checkpoint, thinning with vectorized chains, Pyro's stats.hpdi against ppl.hpdi, quantiles
 * against NumPy's, constant chains, a model without latents, potentialFromFn draws by name.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';

const { sample } = ppl;
const xs = [0.3, -0.8, 1.9, 1.1, 0.6];
function model(): void {
  const mu = sample('mu', new D.Normal(0, 3));
  const s = sample('s', new D.LogNormal(0, 1));
  ppl.plate('data', xs.length, () => sample('x', new D.Normal(mu, s), { obs: tf.tensor1d(xs) }));
}

class Killed extends Error {}
function memoryIO(files: Map<string, Uint8Array>, killAt = Infinity): ppl.mcmc.MCMCCheckpointIO {
  let writes = 0;
  return {
    read: (p: string) => files.get(p)?.slice(),
    write: (p: string, d: Uint8Array) => {
      files.set(p, d.slice());
      writes += 1;
      if (writes >= killAt) throw new Killed(`killed after write ${writes}`);
    },
  };
}

async function muDraws(m: ppl.MCMC): Promise<number[]> {
  await m.run();
  const g = m.getSamples({ groupByChain: true });
  const v = Array.from(g.mu!.dataSync());
  tf.dispose(Object.values(g));
  return v;
}

describe('thinning with checkpoints and vectorized chains', () => {
  it('a thinned run killed mid-way and resumed gives the uninterrupted thinned draws', async () => {
    const opts = {
      numSamples: 30,
      warmupSteps: 30,
      numChains: 2,
      thinning: 4,
      seed: 8,
      progressBar: false,
    };
    const ref = await muDraws(new ppl.MCMC(new ppl.NUTS(model), opts));
    expect(ref.length).toBe(2 * 7);
    const files = new Map<string, Uint8Array>();
    await expect(
      muDraws(
        new ppl.MCMC(new ppl.NUTS(model), {
          ...opts,
          checkpoint: { path: 'k', every: 10, io: memoryIO(files, 3) },
        }),
      ),
    ).rejects.toThrow(Killed);
    const res = await muDraws(
      new ppl.MCMC(new ppl.NUTS(model), {
        ...opts,
        checkpoint: { path: 'k', every: 10, io: memoryIO(files), resume: true },
      }),
    );
    expect(res).toEqual(ref);
  }, 30000);

  it("chainMethod 'vectorized' with thinning keeps the sequential chains' thinned draws", async () => {
    const o = {
      numSamples: 12,
      warmupSteps: 20,
      numChains: 3,
      thinning: 5,
      seed: 2,
      progressBar: false,
    };
    const seq = await muDraws(new ppl.MCMC(new ppl.NUTS(model), o));
    const vec = await muDraws(
      new ppl.MCMC(new ppl.NUTS(model), { ...o, chainMethod: 'vectorized' }),
    );
    expect(seq.length).toBe(6);
    expect(vec).toEqual(seq);
  }, 30000);
});

describe('interval helpers', () => {
  it('stats.hpdi (Pyro, dim) equals ppl.hpdi (NumPyro, axis); quantiles are NumPy type 7', () => {
    const v = Array.from({ length: 57 }, (_, i) => Math.exp(Math.sin(i * 1.7) * 1.3));
    const x = tf.tensor2d(v.map((a, i) => [a, -a + i / 57]));
    const a = ppl.hpdi(x, 0.8, 0);
    const b = ppl.stats.hpdi(x, 0.8, 0);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    const q = ppl.quantiles(x, [0.1, 0.5, 0.975], 0);
    expect(q.shape).toEqual([3, 2]);
    const sorted = [...v].sort((p, r) => p - r);
    const npq = (p: number): number => {
      const h = (sorted.length - 1) * p;
      const lo = Math.floor(h);
      return sorted[lo]! + (h - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!);
    };
    const qv = q.arraySync() as number[][];
    [0.1, 0.5, 0.975].forEach((p, k) => expect(qv[k]![0]).toBeCloseTo(npq(p), 5));
    tf.dispose([x, a, b, q]);
  });

  it('constant chains: ESS is the number of draws (ArviZ, NumPyro; NaN for the Pyro stats), R-hat is not a thrown error', () => {
    const c = [
      [2, 2, 2, 2, 2, 2],
      [2, 2, 2, 2, 2, 2],
    ];
    expect(ppl.mcmc.ess(c)).toBe(12);
    expect(() => ppl.mcmc.splitRhat(c)).not.toThrow();
    const x = tf.fill([2, 6], 2);
    const e = ppl.stats.effectiveSampleSize(x);
    // ppl.stats.effectiveSampleSize is Pyro's since session 17: constant draws give its 0 / 0
    expect(Number.isNaN(e.dataSync()[0])).toBe(true);
    expect(ppl.mcmc.essNumPyro(c)).toBe(12);
    tf.dispose([x, e]);
  });
});

describe('models and potentials', () => {
  it('a model without latent sites is an ArgumentError naming model, nothing leaked', async () => {
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(
      new ppl.NUTS(() => {
        sample('x', new D.Normal(0, 1), { obs: tf.scalar(1) });
      }),
      { numSamples: 5, progressBar: false },
    );
    let err: unknown;
    try {
      await m.run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect(String((err as Error).message)).toContain('model');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('potentialFromFn: draws by parameter name, a 2-D Gaussian with correlation 0.6 (NumPyro potential_fn)', async () => {
    // U = 1/2 z^T S^-1 z with S = [[1, 0.6], [0.6, 1]]
    const det = 1 - 0.36;
    const pot = ppl.potentialFromFn(
      ({ x, y }) =>
        tf.div(tf.sub(tf.add(tf.square(x!), tf.square(y!)), tf.mul(1.2, tf.mul(x!, y!))), 2 * det),
      { x: 0.5, y: -0.5 },
    );
    const m = new ppl.MCMC(new ppl.NUTS(pot), {
      numSamples: 200,
      warmupSteps: 150,
      seed: 4,
      progressBar: false,
    });
    await m.run();
    const s = m.getSamples();
    expect(Object.keys(s).sort()).toEqual(['x', 'y']);
    const x = Array.from(s.x!.dataSync());
    const y = Array.from(s.y!.dataSync());
    const n = x.length;
    const mx = x.reduce((a, b) => a + b, 0) / n;
    const my = y.reduce((a, b) => a + b, 0) / n;
    const cxy = x.reduce((a, v, i) => a + (v - mx) * (y[i]! - my), 0) / (n - 1);
    const ess = ppl.mcmc.essBulk([x]);
    expect(Math.abs(mx)).toBeLessThan(5 / Math.sqrt(ess));
    expect(Math.abs(cxy - 0.6)).toBeLessThan(5 * Math.sqrt((1 + 0.36) / ess));
    const sum = m.summary();
    expect(Object.keys(sum).sort()).toEqual(['x', 'y']);
    tf.dispose(Object.values(s));
  }, 30000);
});

describe("initParams with a leading chain dim (NumPyro's init_params for num_chains > 1)", () => {
  const pot = {
    dim: 2,
    valueAndGrad: (z: Float64Array): { value: number; grad: Float64Array } => ({
      value: 0.5 * (z[0]! ** 2 + z[1]! ** 2),
      grad: Float64Array.from(z),
    }),
  };
  it('each chain starts at its row (a frozen HMC stays there), sequential and vectorized', async () => {
    for (const chainMethod of ['sequential', 'vectorized'] as const) {
      const m = new ppl.MCMC(
        new ppl.HMC(pot, {
          stepSize: 1e-8,
          numSteps: 1,
          adaptStepSize: false,
          adaptMassMatrix: false,
        }),
        {
          numSamples: 3,
          warmupSteps: 0,
          numChains: 3,
          chainMethod,
          initParams: [
            [1, 2],
            [-3, 0.5],
            [0, 7],
          ],
          seed: 1,
          progressBar: false,
        },
      );
      await m.run();
      const z = m.getSamples({ groupByChain: true }).z!;
      const v = z.arraySync() as number[][][];
      [
        [1, 2],
        [-3, 0.5],
        [0, 7],
      ].forEach((row, c) =>
        v[c]!.forEach((d) => d.forEach((x, j) => expect(x).toBeCloseTo(row[j]!, 4))),
      );
      z.dispose();
    }
  });

  it('rows of the wrong count or length are ArgumentErrors naming initParams', () => {
    const bad: unknown[] = [
      [
        [1, 2],
        [3, 4],
      ],
      [[1, 2], [3], [5, 6]],
      [
        [1, 2],
        [3, NaN],
        [5, 6],
      ],
    ];
    for (const ip of bad) {
      let err: unknown;
      try {
        new ppl.MCMC(new ppl.NUTS(pot), {
          numSamples: 3,
          numChains: 3,
          initParams: ip as number[][],
          progressBar: false,
        });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect(String((err as Error).message)).toContain('initParams');
    }
  });
});
