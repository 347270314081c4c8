/**
 * `AutoStructured` (Pyro's): per-site conditionals ('normal', 'mvn', 'delta') and linear
 * dependencies. On a linear-Gaussian model the posterior is Gaussian in closed form; a guide
 * with an 'mvn' conditional (or 'normal' sites with linear dependencies) represents it exactly,
 * so SVI recovers its means, sds and correlation; 'delta' gives the MAP; summaries, memory, bad
 * options.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { thrown } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

// a ~ N(0, 1), b ~ N(a, 1), y ~ N(a + b, 0.5²) observed: (a, b) | y Gaussian
const Y = 2.0;
const model = (y: tf.Tensor): void => {
  const a = ppl.sample('a', new D.Normal(0, 1));
  const b = ppl.sample('b', new D.Normal(a, 1));
  ppl.sample('y', new D.Normal(tf.add(a, b), 0.5), { obs: y });
};
/** Exact posterior: precision Λ = prior precision + (1/σ²) h h^T, h = (1, 1). */
function exactPosterior(): { mean: number[]; sd: number[]; corr: number } {
  // prior: a ~ N(0,1), b | a ~ N(a, 1) => Cov = [[1, 1], [1, 2]], precision [[2, -1], [-1, 1]]
  const s2 = 0.25;
  const L = [
    [2 + 1 / s2, -1 + 1 / s2],
    [-1 + 1 / s2, 1 + 1 / s2],
  ];
  const det = L[0]![0]! * L[1]![1]! - L[0]![1]! * L[1]![0]!;
  const C = [
    [L[1]![1]! / det, -L[0]![1]! / det],
    [-L[1]![0]! / det, L[0]![0]! / det],
  ];
  // mean = C (h y / σ²)
  const r = Y / s2;
  const mean = [C[0]![0]! * r + C[0]![1]! * r, C[1]![0]! * r + C[1]![1]! * r];
  const sd = [Math.sqrt(C[0]![0]!), Math.sqrt(C[1]![1]!)];
  return { mean, sd, corr: C[0]![1]! / (sd[0]! * sd[1]!) };
}

function fitAndMoments(guide: ppl.AutoStructured<[tf.Tensor]>): {
  mean: number[];
  sd: number[];
  corr: number;
} {
  const y = tf.scalar(Y);
  const svi = new ppl.SVI(
    model,
    guide,
    tf.train.adam(0.03),
    new ppl.TraceELBO({ numParticles: 8, vectorizeParticles: true }),
  );
  svi.step(y);
  const before = tf.memory().numTensors;
  for (let i = 1; i < 550; i++) svi.step(y);
  expect(tf.memory().numTensors).toBe(before);
  const svi2 = new ppl.SVI(
    model,
    guide,
    tf.train.adam(0.003),
    new ppl.TraceELBO({ numParticles: 16, vectorizeParticles: true }),
  );
  svi2.step(y); // the new optimizer's slots
  const before2 = tf.memory().numTensors;
  for (let i = 1; i < 250; i++) svi2.step(y);
  expect(tf.memory().numTensors).toBe(before2);
  const n = 4000;
  const s = guide.samplePosterior(n);
  const a = Array.from(s.a?.dataSync() ?? []);
  const b = Array.from(s.b?.dataSync() ?? []);
  tf.dispose([...Object.values(s), y]);
  const m = [a, b].map((x) => x.reduce((p, q) => p + q, 0) / n);
  const sd = [a, b].map((x, k) => Math.sqrt(x.reduce((p, q) => p + (q - m[k]!) ** 2, 0) / (n - 1)));
  const corr =
    a.reduce((p, q, i) => p + (q - m[0]!) * (b[i]! - m[1]!), 0) / (n - 1) / (sd[0]! * sd[1]!);
  return { mean: m, sd, corr };
}

describe('AutoStructured', { timeout: 600_000 }, () => {
  const exact = exactPosterior();
  for (const [label, opts] of [
    ['normal sites with linear dependencies', { conditionals: 'normal', dependencies: 'linear' }],
    [
      "'mvn' on b, b on a by hand",
      { conditionals: { b: 'mvn' }, dependencies: { b: { a: 'linear' } } },
    ],
  ] as const) {
    it(`${label}: the exact Gaussian posterior (means, sds, correlation)`, () => {
      setSeed(0);
      const guide = new ppl.AutoStructured(model, opts as ppl.AutoStructuredOptions);
      const got = fitAndMoments(guide);
      console.log(
        `${label}: mean ${got.mean.map((v) => v.toFixed(3))} (exact ${exact.mean.map((v) => v.toFixed(3))}), sd ${got.sd.map((v) => v.toFixed(3))} (exact ${exact.sd.map((v) => v.toFixed(3))}), corr ${got.corr.toFixed(3)} (exact ${exact.corr.toFixed(3)})`,
      );
      for (let k = 0; k < 2; k++) {
        expect(Math.abs(got.mean[k]! - exact.mean[k]!)).toBeLessThan(
          0.1 * exact.sd[k]! + (5 * exact.sd[k]!) / Math.sqrt(4000),
        );
        expect(Math.abs(got.sd[k]! / exact.sd[k]! - 1)).toBeLessThan(0.1);
      }
      // the fit's error (0.02) plus 5 Monte Carlo SEs of a correlation, (1 - ρ²)/√n
      expect(Math.abs(got.corr - exact.corr)).toBeLessThan(
        0.02 + (5 * (1 - exact.corr ** 2)) / Math.sqrt(4000),
      );
      const names = ppl.getParamStore().names();
      expect(names).toContain('AutoStructured.locs.a');
      expect(names).toContain('AutoStructured.deps.b.a');
      // the marginal quantiles from the closed-form marginal sds
      const q = guide.quantiles([0.5, 0.8413447]);
      const qa = q.a?.arraySync() as number[];
      const med = guide.median();
      expect(qa[0]).toBeCloseTo(med.a?.dataSync()[0] as number, 5);
      expect(Math.abs(qa[1]! - qa[0]! - exact.sd[0]!)).toBeLessThan(0.1 * exact.sd[0]!);
      tf.dispose([...Object.values(q), ...Object.values(med)]);
    });
  }

  it("'delta' sites are MAP points; the others keep their conditional; positive sites stay positive", () => {
    const m2 = (y: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 10));
      const s = ppl.sample('s', new D.HalfNormal(2));
      ppl.plate('n', 4, () => ppl.sample('y', new D.Normal(mu, s), { obs: y }));
    };
    setSeed(1);
    const y = tf.tensor1d([1.2, 0.8, 1.5, 0.5]);
    const guide = new ppl.AutoStructured(m2, { conditionals: { mu: 'delta', s: 'normal' } });
    const svi = new ppl.SVI(m2, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 300; i++) svi.step(y);
    const tr = ppl.trace((yy: tf.Tensor) => guide.call(yy)).getTrace(y);
    expect(tr.get('mu_aux')).toBeUndefined();
    expect(tr.get('s_aux')).toBeDefined();
    tr.dispose();
    const med = guide.median();
    // with s fixed the MAP of mu is the (nearly unshrunk) data mean
    expect(Math.abs((med.mu?.dataSync()[0] as number) - 1.0)).toBeLessThan(0.1);
    expect(med.s?.dataSync()[0]).toBeGreaterThan(0);
    const draws = guide.samplePosterior(50);
    expect(Array.from(draws.s?.dataSync() ?? []).every((v) => v > 0)).toBe(true);
    expect(new Set(Array.from(draws.mu?.dataSync() ?? [])).size).toBe(1);
    tf.dispose([...Object.values(med), ...Object.values(draws), y]);
  });

  it('refuses bad options, unknown sites and cycles naming the option', () => {
    const y = tf.scalar(Y);
    const before = tf.memory().numTensors;
    const bad: [() => unknown, string][] = [
      [() => new ppl.AutoStructured(model, { conditionals: 'flow' as never }), 'conditionals'],
      [
        () => new ppl.AutoStructured(model, { conditionals: { a: 'iaf' } as never }),
        'conditionals',
      ],
      [() => new ppl.AutoStructured(model, { dependencies: 'quadratic' as never }), 'dependencies'],
      [
        () => new ppl.AutoStructured(model, { dependencies: { b: { a: 'mlp' } } as never }),
        'dependencies',
      ],
      [() => new ppl.AutoStructured(model, { initScale: -1 }), 'initScale'],
      [() => new ppl.AutoStructured(model, { init_scale: 0.1 } as never), 'init_scale'],
      [
        () => new ppl.AutoStructured(model, { conditionals: { c: 'normal' } }).call(y),
        'conditionals',
      ],
      [
        () => new ppl.AutoStructured(model, { dependencies: { b: { z: 'linear' } } }).call(y),
        'dependencies',
      ],
      [
        () => new ppl.AutoStructured(model, { dependencies: { a: { a: 'linear' } } }).call(y),
        'dependencies',
      ],
      [
        () =>
          new ppl.AutoStructured(model, {
            dependencies: { a: { b: 'linear' }, b: { a: 'linear' } },
          }).call(y),
        'dependencies',
      ],
    ];
    for (const [run, arg] of bad) {
      const err = thrown(run);
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as Error).message.startsWith(`${arg}:`)).toBe(true);
    }
    expect(ppl.getParamStore().names()).toEqual([]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
  });
});
