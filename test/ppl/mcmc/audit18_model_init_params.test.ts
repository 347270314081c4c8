/**
 * Audit 18: NumPyro's `init_params` for a model (`mcmc.run(key, init_params={site: z})`, the
 * values in the unconstrained space) was refused (`initParams` only for flat potentials). Now a
 * record `{site: unconstrained value}` starts the chains there: every chain, or one row per chain
 * (NumPyro's leading chain dim), the other sites from the `initStrategy`; for every chain method.
 * Checked with a tiny fixed step and no warmup, where the first draw is the start (to 5e-4), the
 * constrained value being `bijectTo(support)(z)` (`exp(z)` for a positive site).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { expectNoLeakAsync } from '../../helpers.js';

const model = (): void => {
  ppl.sample('mu', new D.Normal(0, 1));
  ppl.sample('sigma', new D.HalfNormal(1));
  ppl.plate('p', 3, () => ppl.sample('theta', new D.Normal(0, 1)));
};
const frozen = (): ppl.mcmc.NUTS => new ppl.NUTS(model, { adaptStepSize: false, stepSize: 1e-7 });

/** The first kept draw of each chain, per site (grouped by chain). */
async function firstDraws(
  initParams: ppl.mcmc.ModelInitParams,
  numChains: number,
  chainMethod: 'sequential' | 'vectorized' | 'parallel' = 'sequential',
  seed = 1,
): Promise<Record<string, number[][]>> {
  const m = new ppl.MCMC(frozen(), {
    numSamples: 2,
    numWarmup: 0,
    numChains,
    chainMethod,
    initParams,
    seed,
    progressBar: false,
  });
  await m.run();
  const g = m.getSamples({ groupByChain: true });
  const out: Record<string, number[][]> = {};
  for (const [k, v] of Object.entries(g)) {
    const a = v.arraySync() as (number | number[])[][];
    out[k] = a.map((c) => [c[0]!].flat());
  }
  tf.dispose(Object.values(g));
  return out;
}

describe("initParams for a model: NumPyro's init_params, unconstrained values by site", () => {
  it('every chain starts at the given unconstrained values; a positive site at exp(z)', async () => {
    const th = tf.tensor1d([0.1, -0.2, 0.3]);
    const d = await expectNoLeakAsync(() =>
      firstDraws({ mu: 0.5, sigma: Math.log(2), theta: th }, 2),
    );
    th.dispose();
    for (let c = 0; c < 2; c++) {
      expect(d.mu![c]![0]).toBeCloseTo(0.5, 3);
      expect(d.sigma![c]![0]).toBeCloseTo(2, 3);
      d.theta![c]!.forEach((v, i) => expect(v).toBeCloseTo([0.1, -0.2, 0.3][i]!, 3));
    }
  });

  for (const cm of ['sequential', 'vectorized', 'parallel'] as const) {
    it(`${cm}: one row per chain (leading chain dim); sites not given start from the strategy`, async () => {
      const d = await firstDraws(
        {
          mu: [0.5, -1.5],
          theta: [
            [1, 2, 3],
            [-1, -2, -3],
          ],
        },
        2,
        cm,
      );
      expect(d.mu![0]![0]).toBeCloseTo(0.5, 3);
      expect(d.mu![1]![0]).toBeCloseTo(-1.5, 3);
      d.theta![1]!.forEach((v, i) => expect(v).toBeCloseTo(-(i + 1), 3));
      // sigma from initToUniform: exp(z), z in (-2, 2), and not the same for both chains
      for (const s of d.sigma!) {
        expect(s[0]).toBeGreaterThan(Math.exp(-2));
        expect(s[0]).toBeLessThan(Math.exp(2));
      }
      expect(d.sigma![0]![0]).not.toBe(d.sigma![1]![0]);
    }, 30000);
  }

  it('the same seed, another mu: only the start of mu changes (that of sigma, from the strategy, is the same)', async () => {
    const a = await firstDraws({ mu: 1.25 }, 1);
    const b = await firstDraws({ mu: -1.25 }, 1);
    expect(a.mu![0]![0]).toBeCloseTo(1.25, 3);
    expect(b.mu![0]![0]).toBeCloseTo(-1.25, 3);
    expect(a.sigma![0]![0]).toBeCloseTo(b.sigma![0]![0]!, 3);
  });

  it('bad initParams are ArgumentErrors naming initParams (and the site)', async () => {
    const bad =
      (ip: unknown, nc = 1): (() => unknown) =>
      () =>
        new ppl.MCMC(frozen(), {
          numSamples: 2,
          numChains: nc,
          initParams: ip as ppl.mcmc.ModelInitParams,
          progressBar: false,
        });
    const t = tf.scalar(1);
    t.dispose();
    const scalarStart = tf.scalar(0.5);
    for (const [ip, re] of [
      [[0.5, 1], /initParams: for a model/],
      [scalarStart, /initParams: for a model/],
      [{ mu: NaN }, /initParams: site 'mu': expected finite/],
      [{ mu: 'a' }, /initParams: site 'mu'/],
      [{ mu: [] }, /initParams: site 'mu': expected at least one/],
      [{ mu: t }, /initParams: site 'mu': expected a live/],
      [{}, /initParams/],
    ] as const) {
      expect(bad(ip)).toThrow(ArgumentError);
      expect(bad(ip)).toThrow(re);
    }
    scalarStart.dispose();
    // the layout is checked when the chain is set up, before any sampling
    for (const [ip, nc, re] of [
      [{ nu: 1 }, 1, /initParams: 'nu' is no continuous latent site.*'mu'/],
      [{ theta: [1, 2] }, 1, /initParams: site 'theta': expected its 3/],
      [{ theta: [1, 2, 3, 4, 5, 6] }, 1, /expected its 3/],
      [{ mu: [1, 2, 3] }, 2, /site 'mu'.*or 2 x 1/],
    ] as const) {
      const m = bad(ip, nc)() as ppl.MCMC;
      await expect(expectNoLeakAsync(() => m.run())).rejects.toThrow(re);
    }
    // a flat potential takes arrays, not a record of sites
    const pot = ppl.mcmc.potentialFromFn((p) => tf.sum(tf.square(p.x!)), { x: [0, 0] });
    expect(
      () =>
        new ppl.MCMC(new ppl.NUTS(pot), {
          numSamples: 2,
          initParams: { x: [1, 2] },
          progressBar: false,
        }),
    ).toThrow(/initParams: for a flat Potential/);
  });

  it('a start where the potential is not finite is refused naming initParams', async () => {
    const m = new ppl.MCMC(
      new ppl.NUTS(() => {
        const u = ppl.sample('u', new D.Normal(0, 1));
        ppl.factor('f', tf.log(tf.sub(1, tf.abs(u))));
      }),
      { numSamples: 2, initParams: { u: 3 }, progressBar: false },
    );
    await expect(m.run()).rejects.toThrow(/initParams: .*not finite/);
  });

  it('HMCGibbs sets its chains up itself: initParams refused naming it, nothing leaked', async () => {
    const gm = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('b', new D.Normal(0, 1));
    };
    const k = new ppl.HMCGibbs(new ppl.NUTS(gm), {
      gibbsSites: ['b'],
      gibbsFn: () => ({ b: tf.scalar(0) }),
    });
    const m = new ppl.MCMC(k, { numSamples: 2, initParams: { a: 0 }, progressBar: false });
    await expect(expectNoLeakAsync(() => m.run())).rejects.toThrow(/initParams: a HMCGibbs/);
  });
});

describe('a start that is not finite names the model and the term, not initParams (not given)', () => {
  it("a latent Delta (density finite at one value only): names site 'd'", async () => {
    const m = new ppl.MCMC(
      new ppl.NUTS(() => {
        const mu = ppl.sample('mu', new D.Normal(0, 1));
        ppl.sample('d', new ppl.Delta(tf.mul(mu, 2)));
      }),
      { numSamples: 2, progressBar: false, seed: 1 },
    );
    const err = await expectNoLeakAsync(() =>
      m.run().then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('model');
    expect(String((err as Error).message)).toMatch(
      /no finite start.*site 'd' \(-Infinity\).*deterministic/,
    );
  });

  it("a factor of -Infinity: names site 'f'; a flat potential without a finite start names model", async () => {
    const m = new ppl.MCMC(
      new ppl.NUTS(() => {
        ppl.sample('r', new D.Exponential(1));
        ppl.factor('f', tf.scalar(-Infinity));
      }),
      { numSamples: 2, progressBar: false, seed: 1 },
    );
    await expect(m.run()).rejects.toThrow(/^model: MCMC: no finite start.*site 'f' \(-Infinity\)/);
    const nanPotential = {
      dim: 1,
      valueAndGrad: () => ({ value: NaN, grad: new Float64Array([NaN]) }),
    };
    const flat = new ppl.MCMC(new ppl.NUTS(nanPotential), {
      numSamples: 2,
      progressBar: false,
      seed: 1,
    });
    await expect(flat.run()).rejects.toThrow(/^model: MCMC: the potential energy .* 100 Uniform/);
  });
});

describe('initParams records, numWarmup and denseMass in checkpoints', () => {
  it('a run with them killed mid-way resumes to the same draws; other initParams are refused', async () => {
    const files = new Map<string, Uint8Array>();
    const io = {
      read: (p: string): Uint8Array | undefined => files.get(p),
      write: (p: string, b: Uint8Array): void => void files.set(p, b.slice()),
    };
    const opts = {
      numSamples: 20,
      numWarmup: 20,
      numChains: 2,
      initParams: { mu: [0.3, -0.3], theta: [1, 2, 3] },
      progressBar: false,
      seed: 5,
    };
    const kernel = (): ppl.mcmc.NUTS => new ppl.NUTS(model, { denseMass: true });
    const grab = (m: ppl.MCMC): number[] => {
      const s = m.getSamples();
      const v = Array.from(s.theta!.dataSync());
      tf.dispose(Object.values(s));
      return v;
    };
    const full = new ppl.MCMC(kernel(), opts);
    await full.run();
    let writes = 0;
    const crashing = {
      read: io.read,
      write: (p: string, b: Uint8Array): void => {
        if (++writes > 2) throw new Error('disk gone');
        io.write(p, b);
      },
    };
    const a = new ppl.MCMC(kernel(), {
      ...opts,
      checkpoint: { path: 'ck', every: 10, io: crashing },
    });
    await expect(a.run()).rejects.toThrow(/disk gone/);
    const other = new ppl.MCMC(kernel(), {
      ...opts,
      initParams: { mu: [0.3, -0.3], theta: [1, 2, 4] },
      checkpoint: { path: 'ck', every: 10, io, resume: true },
    });
    await expect(other.run()).rejects.toThrow(/initParams/);
    const b = new ppl.MCMC(kernel(), {
      ...opts,
      checkpoint: { path: 'ck', every: 10, io, resume: true },
    });
    await b.run();
    expect(grab(b)).toEqual(grab(full));
  }, 30000);
});
