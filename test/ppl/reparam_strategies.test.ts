/**
 * Pyro's reparameterization strategies AutoReparam and MinimalReparam: the choices per site on
 * eight schools (centred), the learnable centring in the param store, SVI and NUTS on the
 * rewritten models (NUTS against posteriordb's reference and an exact Gaussian posterior), the
 * cached config, TransformReparam with its base site configured in turn, bad configs named.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bijectors, distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';
import gammaln from '@stdlib/math-base-special-gammaln';
import { eightSchoolsNoncentered } from './mcmc/posteriordb_models.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const Y = [28, 8, -3, 7, -1, 1, 18, 12];
const SIGMA = [15, 10, 16, 11, 9, 11, 10, 18];
/** Eight schools written centred: theta ~ Normal(mu, tau) in a plate. */
function eightSchools(): () => void {
  const y = tf.tensor1d(Y);
  const sigma = tf.tensor1d(SIGMA);
  return () => {
    const mu = ppl.sample('mu', new D.Normal(0, 5));
    const tau = ppl.sample('tau', new D.HalfCauchy(5));
    ppl.plate('J', 8, () => {
      const theta = ppl.sample('theta', new D.Normal(mu, tau));
      ppl.sample('y', new D.Normal(theta, sigma), { obs: y });
    });
  };
}

describe('AutoReparam on eight schools (centred)', () => {
  it('chooses LocScaleReparam for theta and mu, nothing for tau and y; c is a param', () => {
    const auto = new ppl.AutoReparam();
    const m = ppl.reparam(eightSchools(), auto);
    const tr = ppl.trace(m).getTrace();
    expect(auto.config.theta).toBeInstanceOf(ppl.LocScaleReparam);
    expect(auto.config.mu).toBeInstanceOf(ppl.LocScaleReparam);
    expect(auto.config.tau).toBeNull();
    expect(auto.config.y).toBeNull();
    expect(tr.get('theta_decentered')).toBeDefined();
    expect(tr.get('theta')?.isObserved).toBe(true);
    const names = ppl.getParamStore().names();
    expect(names).toEqual(expect.arrayContaining(['theta_centered', 'mu_centered']));
    expect(ppl.getParamStore().value('theta_centered')).toBeAllclose(0.5);
    // the rewritten value: theta = mu + tau^(1-c) (theta_dec - c mu), c = 0.5
    const mu = tr.value('mu').dataSync()[0] as number;
    const tau = tr.value('tau').dataSync()[0] as number;
    const dec = Array.from(tr.value('theta_decentered').dataSync());
    expect(tr.value('theta')).toBeAllclose(
      dec.map((d) => mu + Math.sqrt(tau) * (d - 0.5 * mu)),
      { rtol: 1e-4, atol: 1e-4 },
    );
    tr.dispose();
  });

  it('SVI with AutoNormal learns the centring (kept in [0, 1]) and the loss falls', () => {
    setSeed(3);
    const m = ppl.reparam(eightSchools(), new ppl.AutoReparam());
    const svi = new ppl.SVI(m, new ppl.AutoNormal(m), tf.train.adam(0.05), new ppl.TraceELBO());
    const losses: number[] = [];
    for (let i = 0; i < 150; i++) losses.push(svi.step());
    expect(losses.every(Number.isFinite)).toBe(true);
    const head = losses.slice(0, 30).reduce((a, b) => a + b, 0) / 30;
    const tail = losses.slice(-30).reduce((a, b) => a + b, 0) / 30;
    expect(tail).toBeLessThan(head);
    const c = ppl.getParamStore().value('theta_centered').dataSync()[0] as number;
    expect(c).toBeGreaterThanOrEqual(0);
    expect(c).toBeLessThanOrEqual(1);
    expect(Math.abs(c - 0.5)).toBeGreaterThan(1e-3);
    expectNoLeak(() => {
      svi.step();
    });
  });

  it('NUTS with centered 0 matches the posteriordb reference of mu and theta', async () => {
    const ref = eightSchoolsNoncentered();
    ref.dispose();
    const auto = new ppl.AutoReparam({ centered: 0 });
    const mcmc = new ppl.MCMC(new ppl.NUTS(ppl.reparam(eightSchools(), auto)), {
      numSamples: 400,
      warmupSteps: 300,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run();
    const s = mcmc.getSamples();
    expect(Object.keys(s)).toEqual(expect.arrayContaining(['theta', 'theta_decentered', 'mu']));
    const sum = mcmc.summary();
    const ess = Math.min(
      ...[...(sum.theta_decentered?.elements ?? []), ...(sum.mu_decentered?.elements ?? [])].map(
        (e) => e.essBulk,
      ),
    );
    expect(ess).toBeGreaterThan(60);
    const mu = Array.from((s.mu as tf.Tensor).dataSync());
    const muMean = mu.reduce((a, b) => a + b, 0) / mu.length;
    const rMu = ref.reference.mu as { mean: number; sd: number };
    expect(Math.abs(muMean - rMu.mean)).toBeLessThan((4.5 * rMu.sd) / Math.sqrt(ess));
    const th = tf.tidy(() => tf.mean(s.theta as tf.Tensor, 0));
    Array.from(th.dataSync()).forEach((v, j) => {
      const r = ref.reference[`theta[${j + 1}]`] as { mean: number; sd: number };
      expect(Math.abs(v - r.mean)).toBeLessThan((4.5 * r.sd) / Math.sqrt(ess));
    });
    tf.dispose([th, ...Object.values(s)]);
  });
});

describe('AutoReparam: the same posterior as the original model (exact Gaussian)', () => {
  // mu ~ N(0, 1); theta_j ~ N(mu, 0.8); y_j ~ N(theta_j, 0.5): (mu, theta) jointly Gaussian
  const ys = [1.2, 0.4, 2.0];
  const model = (): void => {
    const mu = ppl.sample('mu', new D.Normal(0, 1));
    ppl.plate('J', 3, () => {
      const theta = ppl.sample('theta', new D.Normal(mu, 0.8));
      ppl.sample('y', new D.Normal(theta, 0.5), { obs: tf.tensor1d(ys) });
    });
  };
  /** Exact posterior means and sds of [mu, theta_1..3] (precision matrix, float64). */
  function exact(): { mean: number[]; sd: number[] } {
    const n = 4;
    const p = Array.from({ length: n }, () => Array.from({ length: n }, () => 0));
    const b = Array.from({ length: n }, () => 0);
    p[0]![0] = 1 + 3 / 0.64;
    for (let j = 1; j < n; j++) {
      p[j]![j] = 1 / 0.64 + 1 / 0.25;
      p[0]![j] = -1 / 0.64;
      p[j]![0] = -1 / 0.64;
      b[j] = ys[j - 1]! / 0.25;
    }
    // Gauss-Jordan inverse
    const m = p.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
    for (let k = 0; k < n; k++) {
      const piv = m[k]![k]!;
      for (let j = 0; j < 2 * n; j++) m[k]![j] = m[k]![j]! / piv;
      for (let i = 0; i < n; i++) {
        if (i === k) continue;
        const f = m[i]![k]!;
        for (let j = 0; j < 2 * n; j++) m[i]![j] = m[i]![j]! - f * m[k]![j]!;
      }
    }
    const c = m.map((r) => r.slice(n));
    return {
      mean: c.map((r) => r.reduce((a, v, j) => a + v * b[j]!, 0)),
      sd: c.map((r, i) => Math.sqrt(r[i]!)),
    };
  }

  it('NUTS on AutoReparam({centered: 0}) gives the exact means and sds of mu and theta', async () => {
    const mcmc = new ppl.MCMC(
      new ppl.NUTS(ppl.reparam(model, new ppl.AutoReparam({ centered: 0 }))),
      {
        numSamples: 500,
        warmupSteps: 250,
        progressBar: false,
        seed: 5,
      },
    );
    await mcmc.run();
    const s = mcmc.getSamples();
    const sum = mcmc.summary();
    const ess = Math.min(
      ...[...(sum.theta_decentered?.elements ?? []), ...(sum.mu_decentered?.elements ?? [])].map(
        (e) => e.essBulk,
      ),
    );
    expect(ess).toBeGreaterThan(80);
    const draws = tf.tidy(() =>
      tf.concat([tf.reshape(s.mu as tf.Tensor, [-1, 1]), s.theta as tf.Tensor], 1),
    );
    const { mean, variance } = tf.moments(draws, 0);
    const want = exact();
    const got = Array.from(mean.dataSync());
    const sds = Array.from(variance.dataSync()).map(Math.sqrt);
    got.forEach((v, i) => {
      expect(Math.abs(v - want.mean[i]!)).toBeLessThan((4.5 * want.sd[i]!) / Math.sqrt(ess));
      expect(Math.abs(sds[i]! - want.sd[i]!)).toBeLessThan((5 * want.sd[i]!) / Math.sqrt(2 * ess));
    });
    tf.dispose([draws, mean, variance, ...Object.values(s)]);
  });
});

describe('strategies: transformed sites, minimal choices, the cached config', () => {
  for (const [label, make] of [
    [
      'a TransformedDistribution',
      (mu: tf.Tensor) => new D.TransformedDistribution(new D.Normal(mu, 2), new bijectors.Exp()),
    ],
    ['a LogNormal (exp of a Normal, as in Pyro)', (mu: tf.Tensor) => new D.LogNormal(mu, 2)],
  ] as const) {
    it(`${label}: TransformReparam, its base site non-centred in turn`, () => {
      const m = (): void => {
        const mu = ppl.sample('mu', new D.Normal(0, 1));
        ppl.sample('x', make(mu));
      };
      const auto = new ppl.AutoReparam({ centered: 0 });
      const tr = ppl.trace(ppl.reparam(m, auto)).getTrace();
      expect(Object.keys(auto.config).sort()).toEqual(['mu', 'x', 'x_base']);
      expect(auto.config.x_base).toBeInstanceOf(ppl.LocScaleReparam);
      const mu = tr.value('mu').dataSync()[0] as number;
      const dec = tr.value('x_base_decentered').dataSync()[0] as number;
      // x_base = mu + 2 * x_base_decentered (centered 0), x = exp(x_base)
      expect(tr.value('x_base')).toBeAllclose([mu + 2 * dec], { atol: 1e-5 });
      expect(tr.value('x')).toBeAllclose([Math.exp(mu + 2 * dec)], { rtol: 1e-5 });
      // all the density sits on the decentred sites: N(dec; 0, 1) and N(mu_dec; 0, 1)
      const muDec = tr.value('mu_decentered').dataSync()[0] as number;
      const lp = tr.logProbSum();
      const nl = (z: number): number => -0.5 * z * z - 0.5 * Math.log(2 * Math.PI);
      expect(lp.dataSync()[0]).toBeCloseTo(nl(dec) + nl(muDec), 4);
      tf.dispose([lp]);
      tr.dispose();
    });
  }

  it('MinimalReparam: a latent ProjectedNormal gets ProjectedNormalReparam, a Normal nothing', () => {
    const m = (): void => {
      ppl.sample('d', new D.ProjectedNormal(tf.tensor1d([1, 0.5, 0])));
      ppl.sample('z', new D.Normal(0, 1));
    };
    const minimal = new ppl.MinimalReparam();
    const tr = ppl.trace(minimal.reparam(m)).getTrace();
    expect(minimal.config.d).toBeInstanceOf(ppl.ProjectedNormalReparam);
    expect(minimal.config.z).toBeNull();
    expect(tr.get('d_normal')).toBeDefined();
    tr.dispose();
  });

  it('configure runs once per site; later runs reuse the config; no tensors leak', () => {
    let calls = 0;
    class Counting extends ppl.AutoReparam {
      override configure(msg: ppl.ReparamMessage): ppl.Reparam | null {
        calls++;
        return super.configure(msg);
      }
    }
    const strategy = new Counting({ centered: 0.3 });
    const m = ppl.reparam(eightSchools(), strategy);
    ppl.trace(m).getTrace().dispose();
    expect(calls).toBe(4); // mu, tau, theta, y
    expectNoLeak(() => {
      const tr = ppl.trace(m).getTrace();
      const lp = tr.logProbSum();
      tr.dispose();
      return lp;
    });
    expect(calls).toBe(4);
    // the config is a plain map that reparam accepts
    const again = ppl.reparam(eightSchools(), {
      theta: strategy.config.theta as ppl.Reparam,
    });
    const tr = ppl.trace(again).getTrace();
    expect(tr.get('theta_decentered')).toBeDefined();
    tr.dispose();
  });
});

describe('bad strategies and options are named', () => {
  const thrown = (fn: () => unknown): ArgumentError => {
    const before = tf.memory().numTensors;
    let err: unknown = null;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect(tf.memory().numTensors).toBe(before);
    return err as ArgumentError;
  };
  it('AutoReparam options', () => {
    expect(thrown(() => new ppl.AutoReparam({ centered: 2 })).message).toMatch(/centered/);
    expect(
      thrown(() => new ppl.AutoReparam({ centred: 0 } as ppl.AutoReparamOptions)).message,
    ).toMatch(/centred/);
    expect(
      thrown(() => new ppl.AutoReparam(3 as unknown as ppl.AutoReparamOptions)).message,
    ).toMatch(/options/);
  });
  it('a strategy whose configure gives something that is not a Reparam names the site', () => {
    class Bad extends ppl.ReparamStrategy {
      configure(msg: ppl.ReparamMessage): ppl.Reparam | null {
        return msg.name === 'tau' ? (3 as unknown as ppl.Reparam) : null;
      }
    }
    const m = eightSchools();
    const e = thrown(() => ppl.trace(ppl.reparam(m, new Bad())).getTrace());
    expect(e.message).toMatch(/'tau'/);
  });
  it('a function config giving a non-Reparam names the site', () => {
    const m = eightSchools();
    const e = thrown(() =>
      ppl
        .trace(ppl.reparam(m, (msg) => (msg.name === 'mu' ? ({} as ppl.Reparam) : null)))
        .getTrace(),
    );
    expect(e.message).toMatch(/'mu'/);
  });
});

describe("Pyro's keyword form: reparam(model, {config: strategy})", () => {
  it('takes the strategy (or a function) under a sole config key; a nested map is still refused', () => {
    const auto = new ppl.AutoReparam({ centered: 0 });
    const tr = ppl.trace(ppl.reparam(eightSchools(), { config: auto })).getTrace();
    expect(auto.config.theta).toBeInstanceOf(ppl.LocScaleReparam);
    expect(tr.get('theta_decentered')).toBeDefined();
    tr.dispose();
    const byFn = ppl.reparam(eightSchools(), {
      config: (msg) => (msg.name === 'theta' ? new ppl.LocScaleReparam(0) : null),
    });
    const tr2 = ppl.trace(byFn).getTrace();
    expect(tr2.get('theta_decentered')).toBeDefined();
    expect(tr2.get('mu_decentered')).toBeUndefined();
    tr2.dispose();
    expect(() =>
      ppl.reparam(eightSchools(), {
        config: { theta: new ppl.LocScaleReparam(0) },
      } as never),
    ).toThrow(/entry 'config' is not a Reparam/);
  });
});

describe('GumbelSoftmaxReparam (chosen by AutoReparam for a RelaxedOneHotCategorical)', () => {
  it('x = softmax((log π - log(-log u)) / t) of the uniform noise, in float64; no density on x', () => {
    const logits = [0.3, -1.2, 0.8];
    const t = 0.7;
    const m = (): void => {
      ppl.plate('B', 2, () =>
        ppl.sample('z', new D.RelaxedOneHotCategorical(t, { logits: tf.tensor1d(logits) })),
      );
    };
    const auto = new ppl.AutoReparam();
    const uv = [
      [0.2, 0.7, 0.5],
      [0.95, 0.01, 0.4],
    ];
    const u = tf.tensor2d(uv);
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.condition(ppl.reparam(m, auto), { z_uniform: u })).getTrace();
    expect(auto.config.z).toBeInstanceOf(ppl.GumbelSoftmaxReparam);
    const lse = Math.log(logits.reduce((a, l) => a + Math.exp(l), 0));
    const want = uv.flatMap((row) => {
      const y = row.map((v, k) => (logits[k]! - lse - Math.log(-Math.log(v))) / t);
      const mx = Math.max(...y);
      const z = y.reduce((a, v) => a + Math.exp(v - mx), 0);
      return y.map((v) => Math.exp(v - mx) / z);
    });
    expect(tr.value('z').shape).toEqual([2, 3]);
    expect(Array.from(tr.value('z').dataSync())).toBeAllclose(want, { atol: 1e-5 });
    // U(0, 1) noise has log-density 0 and the point mass carries none
    const lp = tr.logProbSum();
    expect(lp.dataSync()[0]).toBeCloseTo(0, 5);
    lp.dispose();
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    u.dispose();
  });

  it('refuses another family and an observed site, naming the site', () => {
    const m = (): void => {
      ppl.sample('z', new D.Normal(0, 1));
    };
    expect(() =>
      ppl.trace(ppl.reparam(m, { z: new ppl.GumbelSoftmaxReparam() })).getTrace(),
    ).toThrow(/'z'.*RelaxedOneHotCategorical/s);
  });
});

describe('LocScaleReparam and AutoReparam on families with shape parameters (Pyro shape_params)', () => {
  it('StudentT(df, mu, 2): x_dec ~ StudentT(df, c mu, 2^c), x = mu + 2^(1-c) (x_dec - c mu)', () => {
    const df = 3;
    const m = (): void => {
      const mu = ppl.sample('mu', new D.Normal(1, 1));
      ppl.sample('x', new D.StudentT(df, mu, 2));
    };
    const auto = new ppl.AutoReparam({ centered: 0.3 });
    const tr = ppl.trace(ppl.reparam(m, auto)).getTrace();
    expect(auto.config.x).toBeInstanceOf(ppl.LocScaleReparam);
    const mu = tr.value('mu').dataSync()[0] as number;
    const dec = tr.value('x_decentered').dataSync()[0] as number;
    expect(tr.value('x')).toBeAllclose([mu + 2 ** 0.7 * (dec - 0.3 * mu)], { atol: 1e-4 });
    // the density of x_dec: Student t with df 3 at (dec - 0.3 mu) / 2^0.3, scaled (float64)
    const tLog = (z: number, nu: number): number =>
      gammaln((nu + 1) / 2) -
      gammaln(nu / 2) -
      0.5 * Math.log(nu * Math.PI) -
      ((nu + 1) / 2) * Math.log(1 + (z * z) / nu);
    const sc = 2 ** 0.3;
    const want = tLog((dec - 0.3 * mu) / sc, df) - Math.log(sc);
    const node = tr.get('x_decentered');
    const lp = node?.fn?.logProb(tr.value('x_decentered')) as tf.Tensor;
    expect(lp.dataSync()[0]).toBeCloseTo(want, 4);
    lp.dispose();
    tr.dispose();
  });

  it('AsymmetricLaplace and SkewNormal keep their shape parameter under non-centring', () => {
    for (const make of [
      (mu: tf.Tensor) => new D.AsymmetricLaplace(mu, 1.5, 2),
      (mu: tf.Tensor) => new D.SkewNormal(mu, 1.5, -3),
    ]) {
      const m = (): void => {
        const mu = ppl.sample('mu', new D.Normal(0, 1));
        ppl.sample('x', make(mu));
      };
      const tr = ppl.trace(ppl.reparam(m, { x: new ppl.LocScaleReparam(0) })).getTrace();
      const mu = tr.value('mu').dataSync()[0] as number;
      const dec = tr.value('x_decentered').dataSync()[0] as number;
      expect(tr.value('x')).toBeAllclose([mu + 1.5 * dec], { atol: 1e-4 });
      // the decentred site is the standard member: its density at dec is the original's at x,
      // times the scale (change of variables x = mu + 1.5 dec)
      const orig = make(tf.scalar(mu));
      const a = tr.get('x_decentered')?.fn?.logProb(tf.scalar(dec)) as tf.Tensor;
      const b = orig.logProb(tf.scalar(mu + 1.5 * dec));
      expect(a.dataSync()[0]).toBeCloseTo((b.dataSync()[0] as number) + Math.log(1.5), 4);
      tf.dispose([a, b]);
      tr.dispose();
    }
  });
});
