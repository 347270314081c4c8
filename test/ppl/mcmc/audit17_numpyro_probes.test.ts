/**
 * Audit (NumPyro parity, session 17): probes of the MCMC API a NumPyro user reaches for, each
 * against an independent reference (closed forms, float64 JS, Monte Carlo within 5 SE).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';

const { sample } = ppl;

function argErr(f: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, String(re)).toBeInstanceOf(ArgumentError);
  expect(String((err as Error).message)).toMatch(re);
}

const quiet = <T>(f: () => T): T => {
  const orig = console.log;
  console.log = (): void => {};
  try {
    return f();
  } finally {
    console.log = orig;
  }
};

// mu ~ N(0, 1), s ~ HalfNormal(1), det = 3 mu
function simple(): void {
  const mu = sample('mu', new D.Normal(0, 1));
  sample('s', new D.HalfNormal(1));
  ppl.deterministic('det', tf.mul(mu, 3));
}

function runSimple(o: Partial<ppl.MCMCOptions> = {}): ppl.MCMC {
  const m = new ppl.MCMC(new ppl.NUTS(simple), {
    numSamples: 40,
    warmupSteps: 40,
    numChains: 2,
    seed: 8,
    progressBar: false,
    ...o,
  });
  m.runSync();
  return m;
}

describe('NumPyro probes: extra fields', () => {
  it("potentialEnergy of every kept draw equals initializeModel's U at that draw's unconstrained point", () => {
    const m = runSimple({ numChains: 1, numSamples: 12 });
    const info = ppl.initializeModel(simple, { seed: 0 });
    const g = m.getSamples({ groupByChain: true });
    const mu = (g.mu!.arraySync() as number[][])[0]!;
    const s = (g.s!.arraySync() as number[][])[0]!;
    const pe = m.getExtraFields()[0]!.potentialEnergy;
    mu.forEach((v, i) => {
      // U = -(log N(mu) + log HN(s) + log s) (exp bijector), stored draws are float32
      const z = [v, Math.log(s[i]!)];
      const ref = 0.5 * v * v + 0.5 * s[i]! ** 2 - Math.log(2) + Math.log(2 * Math.PI) - z[1]!;
      expect(info.potentialFn(z)).toBeCloseTo(ref, 4);
      expect(pe[i]!).toBeCloseTo(ref, 4);
    });
    tf.dispose(Object.values(g));
  });

  it('with thinning 3, getExtraFields({groupByChain}) has floor(numSamples / 3) columns per chain', () => {
    const m = runSimple({ numSamples: 20, thinning: 3 });
    const e = m.getExtraFields({ groupByChain: true });
    expect(e.acceptStat.shape).toEqual([2, 6]);
    const s = m.getSamples({ groupByChain: true });
    expect(s.mu!.shape).toEqual([2, 6]);
    tf.dispose([...Object.values(e), ...Object.values(s)]);
  });

  it('numDivergences equals the sum of getExtraFields().divergent', () => {
    const funnel = (): void => {
      const v = sample('v', new D.Normal(0, 3));
      sample('x', new D.Normal(tf.zeros([3]), tf.exp(tf.div(v, 2))).toEvent(1));
    };
    const m = new ppl.MCMC(new ppl.NUTS(funnel), {
      numSamples: 60,
      warmupSteps: 30,
      seed: 2,
      progressBar: false,
    });
    m.runSync();
    const d = m.getExtraFields({});
    const n = d.divergent.cast('int32').sum().dataSync()[0];
    expect(m.numDivergences).toBe(n);
    tf.dispose(Object.values(d));
  });
});

describe('NumPyro probes: summary', () => {
  it('summary of a [2, 3] site: HPDI and n_eff per element, row-major labels', () => {
    const model = (): void => {
      sample(
        'w',
        new D.Normal(
          tf.tensor2d([
            [0, 1, 2],
            [3, 4, 5],
          ]),
          0.5,
        ).toEvent(2),
      );
    };
    const m = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 50,
      warmupSteps: 50,
      seed: 1,
      progressBar: false,
    });
    m.runSync();
    const sm = m.summary();
    expect(sm.w!.shape).toEqual([2, 3]);
    expect(sm.w!.elements).toHaveLength(6);
    sm.w!.elements.forEach((e, k) => {
      expect(e.hpdiLow).toBeLessThan(k);
      expect(e.hpdiHigh).toBeGreaterThan(k);
      expect(e.hpdiHigh - e.hpdiLow).toBeLessThan(4 * 0.5 * 1.645);
      expect(e.nEff).toBeGreaterThan(5);
    });
    const text = quiet(() => m.printSummary());
    expect(text).toMatch(/w\[1,2\]/);
    tf.dispose(Object.values(m.getSamples()));
  });

  it('summary of 1 draw gives NaN n_eff and the draw as its HPDI, no throw', () => {
    const m = runSimple({ numSamples: 1, warmupSteps: 0, numChains: 1 });
    const e = m.summary().mu!.elements[0]!;
    expect(e.nEff).toBeNaN();
    expect(e.hpdiLow).toBe(e.hpdiHigh);
    expect(e.hpdiLow).toBe(e.mean);
  });

  it("printSummary's excludeDeterministic (NumPyro's exclude_deterministic) drops the deterministic sites", () => {
    const m = runSimple();
    const all = quiet(() => m.printSummary(0.9));
    expect(all).toMatch(/\bdet\b/);
    const lat = quiet(() => m.printSummary(0.9, { excludeDeterministic: true }));
    expect(lat).not.toMatch(/\bdet\b/);
    expect(lat).toMatch(/\bmu\b/);
    expect(Object.keys(m.summary(0.9, { excludeDeterministic: true })).sort()).toEqual(['mu', 's']);
    argErr(() => m.printSummary(0.9, { exclude: true } as never), /exclude/);
    argErr(() => m.summary(0.9, { excludeDeterministic: 'yes' } as never), /excludeDeterministic/);
    tf.dispose(Object.values(m.getSamples()));
  });

  it("ppl.mcmc.summary(samples, {groupByChain}) (numpyro.diagnostics.summary) equals the run's summary", () => {
    const m = runSimple();
    const g = m.getSamples({ groupByChain: true });
    const before = tf.memory().numTensors;
    const s = ppl.mcmc.summary(g, { prob: 0.8 });
    expect(tf.memory().numTensors).toBe(before);
    const r = m.summary(0.8);
    for (const k of ['mu', 's', 'det']) expect(s[k]).toEqual(r[k]);
    // flat draws: one chain
    const f = m.getSamples();
    const one = ppl.mcmc.summary(f, { groupByChain: false });
    expect(one.mu!.elements[0]!.mean).toBeCloseTo(r.mu!.elements[0]!.mean, 6);
    expect(one.mu!.elements[0]!.nEff).toBeCloseTo(
      ppl.mcmc.essNumPyro([Array.from(f.mu!.dataSync())]),
      8,
    );
    // a bare tensor is the site 'Param:0' as in NumPyro
    const t = ppl.mcmc.summary(g.mu!);
    expect(Object.keys(t)).toEqual(['Param:0']);
    argErr(() => ppl.mcmc.summary(g, { prob: 1 }), /prob/);
    argErr(() => ppl.mcmc.summary(g, { groupByChains: true } as never), /groupByChains/);
    argErr(() => ppl.mcmc.summary({ a: tf.scalar(1) }), /'a'/);
    argErr(() => ppl.mcmc.summary(3 as never), /samples/);
    const txt = quiet(() => ppl.mcmc.printSummary(g, { prob: 0.8 }));
    expect(txt).toContain('hpdi_10.0%');
    tf.dispose([...Object.values(g), ...Object.values(f)]);
  });
});

describe('NumPyro probes: initializeModel', () => {
  it('a Dirichlet site: z has K - 1 coordinates, postprocess gives a simplex, U has the stick-breaking Jacobian', () => {
    const model = (): void => {
      sample('p', new D.Dirichlet(tf.tensor1d([2, 3, 4])));
    };
    const info = ppl.initializeModel(model, { seed: 1 });
    expect(info.sites[0]!.size).toBe(2);
    const z = [0.3, -0.4];
    const out = info.postprocessFn(z);
    const p = Array.from(out.p!.dataSync());
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // U(z) = -(log Dir(p) + log|J|); check exp(-U) integrates like the density: compare
    // differences of U with differences of -log Dir at two points minus their log|J| from the
    // finite-difference Jacobian determinant of z -> p[0..K-2]
    const simplexAt = (zz: number[]): number[] => {
      const o = info.postprocessFn(zz);
      const v = Array.from(o.p!.dataSync());
      tf.dispose(Object.values(o));
      return v;
    };
    const logDir = (q: number[]): number =>
      Math.log(q[0]!) + 2 * Math.log(q[1]!) + 3 * Math.log(q[2]!);
    const logJac = (zz: number[]): number => {
      const h = 1e-3;
      const col = (i: number): number[] => {
        const a = [...zz];
        const b = [...zz];
        a[i] = a[i]! + h;
        b[i] = b[i]! - h;
        const pa = simplexAt(a);
        const pb = simplexAt(b);
        return [0, 1].map((j) => (pa[j]! - pb[j]!) / (2 * h));
      };
      const c0 = col(0);
      const c1 = col(1);
      return Math.log(Math.abs(c0[0]! * c1[1]! - c0[1]! * c1[0]!));
    };
    const z2 = [-0.8, 0.9];
    const du = info.potentialFn(z2) - info.potentialFn(z);
    const ref = -(logDir(simplexAt(z2)) + logJac(z2)) + (logDir(simplexAt(z)) + logJac(z));
    expect(du).toBeCloseTo(ref, 2);
    tf.dispose(Object.values(out));
  });

  it('a model with no latent sites is refused naming model', () => {
    const obsOnly = (): void => {
      sample('y', new D.Normal(0, 1), { obs: tf.scalar(0.5) });
    };
    argErr(() => ppl.initializeModel(obsOnly), /model/);
  });

  it('a discrete site is summed out of U: U(z) = -log Σ_k p(k) N(x; μ_k, 1) - log|J| in float64', () => {
    const x = 0.7;
    const model = (): void => {
      const m = sample('m', new D.Normal(0, 2));
      const k = sample('k', new D.Bernoulli(0.3));
      sample('x', new D.Normal(tf.add(m, tf.mul(k, 2)), 1), { obs: tf.scalar(x) });
    };
    const info = ppl.initializeModel(model, { seed: 2 });
    const lN = (v: number, mu: number, sd: number): number =>
      -0.5 * ((v - mu) / sd) ** 2 - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
    for (const mv of [-1, 0.4, 2]) {
      const ref = -(
        lN(mv, 0, 2) + Math.log(0.7 * Math.exp(lN(x, mv, 1)) + 0.3 * Math.exp(lN(x, mv + 2, 1)))
      );
      expect(info.potentialFn([mv])).toBeCloseTo(ref, 4);
    }
  });
});

describe('NumPyro probes: run options', () => {
  it('getSamples / getExtraFields / summary before run() name run', () => {
    const m = new ppl.MCMC(new ppl.NUTS(simple), { numSamples: 5, progressBar: false });
    argErr(() => m.getSamples(), /run/);
    argErr(() => m.getExtraFields(), /run/);
    argErr(() => m.summary(), /run/);
  });

  it('per-chain initParams start each chain there (NumPyro init_params with a chain dim)', () => {
    const pot = ppl.potentialFromFn(({ x }) => tf.mul(0.5, tf.sum(tf.square(x!))), { x: [0, 0] });
    const m = new ppl.MCMC(
      new ppl.HMC(pot, { adaptStepSize: false, stepSize: 1e-9, numSteps: 1 }),
      {
        numSamples: 2,
        warmupSteps: 0,
        numChains: 2,
        seed: 1,
        progressBar: false,
        initParams: [
          [1, 2],
          [-3, 4],
        ],
      },
    );
    m.runSync();
    const x = m.getSamples({ groupByChain: true }).x!;
    const v = x.arraySync() as number[][][];
    expect(v[0]![0]![0]).toBeCloseTo(1, 4);
    expect(v[1]![0]![1]).toBeCloseTo(4, 4);
    x.dispose();
  });

  it('NUTS targetAcceptProb 0.95: mean acceptStat of the kept draws near 0.95 (MC tolerance)', () => {
    const model = (): void => {
      sample('a', new D.Normal(tf.zeros([4]), tf.tensor1d([1, 2, 0.5, 3])).toEvent(1));
    };
    const m = new ppl.MCMC(new ppl.NUTS(model, { targetAcceptProb: 0.95 }), {
      numSamples: 200,
      warmupSteps: 300,
      seed: 3,
      progressBar: false,
    });
    m.runSync();
    const a = Array.from(m.getExtraFields()[0]!.acceptStat);
    const mean = a.reduce((p, q) => p + q, 0) / a.length;
    const sd = Math.sqrt(a.reduce((p, q) => p + (q - mean) ** 2, 0) / (a.length - 1));
    expect(Math.abs(mean - 0.95)).toBeLessThan(Math.max(0.03, (5 * sd) / Math.sqrt(a.length)));
    tf.dispose(Object.values(m.getSamples()));
  });
});

describe('NumPyro probes: more', () => {
  it('after warmup() alone, reading draws names run (no draws kept); run() then gives numSamples', () => {
    const m = new ppl.MCMC(new ppl.NUTS(simple), {
      numSamples: 7,
      warmupSteps: 10,
      seed: 1,
      progressBar: false,
    });
    m.warmupSync();
    argErr(() => m.getSamples(), /run/);
    argErr(() => m.getExtraFields({ groupByChain: true }), /run/);
    m.runSync();
    const e = m.getExtraFields({ groupByChain: true });
    expect(e.stepSize.shape).toEqual([1, 7]);
    // continued from the adapted state: the step size is fixed at the adapted one
    const st = Array.from(e.stepSize.dataSync());
    expect(new Set(st).size).toBe(1);
    expect(st[0]).toBeCloseTo(m.lastState!.chains[0]!.stepSize, 5);
    tf.dispose([...Object.values(e), ...Object.values(m.getSamples())]);
  });

  it('vectorized and sequential chains give the same extra-field tensors for the same seed', () => {
    const a = runSimple({ chainMethod: 'sequential' });
    const b = runSimple({ chainMethod: 'vectorized' });
    const ea = a.getExtraFields({ groupByChain: true });
    const eb = b.getExtraFields({ groupByChain: true });
    for (const k of ppl.mcmc.EXTRA_FIELDS) {
      if (k === 'energy' || k === 'potentialEnergy') {
        const x = Array.from(ea[k].dataSync());
        const y = Array.from(eb[k].dataSync());
        x.forEach((v, i) => expect(v).toBeCloseTo(y[i]!, 3));
      } else expect(Array.from(ea[k].dataSync())).toEqual(Array.from(eb[k].dataSync()));
    }
    tf.dispose([...Object.values(ea), ...Object.values(eb)]);
  }, 30000);

  it('HMCGibbs: excludeDeterministic keeps the Gibbs sites (they are latent)', () => {
    const model = (): void => {
      const a = sample('a', new D.Normal(0, 1));
      sample('b', new D.Normal(a, 1));
      ppl.deterministic('ab', tf.add(a, 1));
    };
    const m = new ppl.MCMC(
      new ppl.HMCGibbs(new ppl.NUTS(model), {
        gibbsFn: ({ seed }) => ({ a: new D.Normal(0, 1).sample([], seed) }),
        gibbsSites: ['a'],
      }),
      { numSamples: 10, warmupSteps: 10, seed: 2, progressBar: false },
    );
    m.runSync();
    expect(Object.keys(m.summary(0.9, { excludeDeterministic: true })).sort()).toEqual(['a', 'b']);
    expect(Object.keys(m.summary()).sort()).toEqual(['a', 'ab', 'b']);
    tf.dispose(Object.values(m.getSamples()));
  });

  it('ppl.mcmc.summary of int32 draws (a discrete site) and a [2, 40, 2] tensor: HPDI of the brute force', () => {
    const k = tf.tensor2d(
      [
        Array.from({ length: 30 }, (_, i) => i % 3),
        Array.from({ length: 30 }, (_, i) => (i * 7) % 4),
      ],
      undefined,
      'int32',
    );
    const s = ppl.mcmc.summary({ k }, { prob: 0.5 });
    const flat = Array.from(k.dataSync()).sort((a, b) => a - b);
    expect(s.k!.elements[0]!.hpdiLow).toBe(flat[0]);
    expect(s.k!.elements[0]!.hpdiHigh).toBe(flat[Math.floor(0.5 * 60)]);
    expect(s.k!.elements[0]!.mean).toBeCloseTo(flat.reduce((a, b) => a + b, 0) / 60, 6);
    const v = tf.tidy(() => tf.randomNormal([2, 40, 2], 0, 1, 'float32', 5));
    const sv = ppl.mcmc.summary({ v });
    expect(sv.v!.shape).toEqual([2]);
    const arr = v.arraySync() as number[][][];
    const col = arr.flatMap((c) => c.map((d) => d[1]!)).sort((a, b) => a - b);
    const m = Math.floor(0.9 * 80);
    let best = 0;
    for (let i = 0; i + m < 80; i++)
      if (col[i + m]! - col[i]! < col[best + m]! - col[best]!) best = i;
    expect(sv.v!.elements[1]!.hpdiLow).toBe(col[best]);
    expect(sv.v!.elements[1]!.hpdiHigh).toBe(col[best + m]);
    tf.dispose([k, v]);
  });

  it('a continued run (postWarmupState) gets extra fields of its own draws only', () => {
    const m = runSimple({ numSamples: 9 });
    m.postWarmupState = m.lastState;
    m.runSync();
    const e = m.getExtraFields({});
    expect(e.treeDepth.shape).toEqual([18]);
    const per = m.getExtraFields();
    expect(per[1]!.treeDepth.length).toBe(9);
    tf.dispose([...Object.values(e), ...Object.values(m.getSamples())]);
  });
});
