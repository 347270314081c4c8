/**
 * Families at extreme but legal parameters and values, against float64 references (@stdlib,
 * closed forms): the cancellation-free forms must keep float32 accuracy where the textbook
 * formulas lose it.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';
import { log1p } from '../../src/utils/log1p.js';
import normalRef from '@stdlib/stats-base-dists-normal';
import geometricRef from '@stdlib/stats-base-dists-geometric';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import invgammaRef from '@stdlib/stats-base-dists-invgamma';
import betaRef from '@stdlib/stats-base-dists-beta';
import tRef from '@stdlib/stats-base-dists-t';
import gammaln from '@stdlib/math-base-special-gammaln';
import { expectNoLeak, finiteDiff } from '../helpers.js';

const d = distributions;

/** `dist.method(x)` as numbers, the distribution disposed, no tensor left behind. */
function call(
  dist: distributions.Distribution,
  method: 'logProb' | 'cdf' | 'logCdf' | 'logSurvival',
  x: number[],
): number[] {
  const v = expectNoLeak(() => dist[method](x));
  dist.dispose();
  return v;
}

describe('log1p is accurate on every backend', () => {
  it('matches Math.log1p at tiny arguments, with gradient 1/(1 + x) (tf.log1p on wasm does not)', () => {
    // tf.log1p on wasm: log1p(1e-10) = 0, log1p(-2.87e-7) = -2.98e-7, log1p(1e-7) = 1.19e-7
    const xs = [1e-10, -2.87e-7, 1e-7, -1e-3, 0.5, 3, 1e30, 0];
    const t = tf.tensor1d(xs);
    const got = expectNoLeak(() => log1p(t));
    expect(got).toBeAllclose(xs.map(Math.log1p), { rtol: 3e-7, atol: 0 });
    const ends = tf.tensor1d([-1, -2, Infinity]);
    expect(expectNoLeak(() => log1p(ends))).toEqual([-Infinity, NaN, Infinity]);
    ends.dispose();
    const g = expectNoLeak(() => tf.grad((x: tf.Tensor) => tf.sum(log1p(x)))(t));
    expect(g).toBeAllclose(
      xs.map((x) => 1 / (1 + x)),
      { rtol: 1e-6 },
    );
    t.dispose();
  });

  it('Geometric at tiny p and the Normal / HalfNormal log-CDFs in the upper tail', () => {
    // Geometric(1e-7).logProb(1e6) gave -16.2373 for -16.2181 (k log1p(-p))
    expect(call(new d.Geometric({ probs: 1e-7 }), 'logProb', [1e6, 10])).toBeAllclose(
      [geometricRef.logpmf(1e6, 1e-7), geometricRef.logpmf(10, 1e-7)],
      { rtol: 1e-6 },
    );
    // Normal.logCdf(5) gave -2.98e-7 for -2.8665e-7
    const zs = [3, 5, 8];
    expect(call(new d.Normal(0, 1), 'logCdf', zs)).toBeAllclose(
      zs.map((z) => Math.log1p(-normalRef.cdf(-z, 0, 1))),
      { rtol: 1e-4, atol: 0 },
    );
    // HalfNormal.logCdf(10) (scale 2) gave -5.96e-7 for -5.733e-7 (log of the cdf); its
    // logSurvival(60) was -Infinity (log of an underflowed erfc)
    const xs = [10, 14];
    expect(call(new d.HalfNormal(2), 'logCdf', xs)).toBeAllclose(
      xs.map((x) => Math.log1p(-2 * normalRef.cdf(-x / 2, 0, 1))),
      { rtol: 1e-4, atol: 0 },
    );
    const far = [1, 28, 60];
    expect(call(new d.HalfNormal(2), 'logSurvival', far)).toBeAllclose(
      far.map((x) => Math.LN2 + normalRef.logcdf(-x / 2, 0, 1)),
      { rtol: 1e-6 },
    );
  });
});

/**
 * `|got - want| <= rtol * max(1, |want|)` entry by entry, naming the case. The tolerances allow
 * for float32 rounding of products such as `rate * x` inside the densities (a condition number
 * of ~1e3 at concentrations 1e6); the textbook forms were off by 1e-3 to 10 nats.
 */
function expectClose(got: number[], want: number[], rtol: number, what: string): void {
  want.forEach((w, i) => {
    if (got[i] === w) return; // equal infinities
    expect(Math.abs(got[i]! - w), `${what} [${i}]: ${got[i]} vs ${w}`).toBeLessThanOrEqual(
      rtol * Math.max(1, Math.abs(w)),
    );
  });
}

/** The gradient of `sum(dist(params).logProb(x))` in the (scalar) parameters. */
function logProbGrad(
  build: (p: tf.Tensor[]) => distributions.Distribution,
  params: number[],
  x: number,
): number[] {
  const before = tf.memory().numTensors;
  const ts = params.map((v) => tf.scalar(v));
  const grads = tf.grads((...p: tf.Tensor[]) => {
    const dist = build(p);
    const lp = dist.logProb(x);
    dist.dispose();
    return lp;
  })(ts);
  const out = grads.map((g) => g.dataSync()[0]!);
  grads.forEach((g) => g.dispose());
  ts.forEach((t) => t.dispose());
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe('log-densities at large and tiny shape parameters (@stdlib)', () => {
  it('Gamma and InverseGamma at concentrations 1e-3..1e6', () => {
    // the lgamma form gave Gamma(1e4, 1) at 1e4: -5.5234 for -5.5241, (1e6, 2) at 5e5: -7 for
    // -7.1335, (1e5, 1e5) at 1.001: 4.875 for 4.7866; InverseGamma(1e6, 2e6) at 2: 5.125 for 5.2957
    const gammas: [number, number, number[]][] = [
      [1e4, 1, [1e4, 9800, 10300]],
      [1e6, 2, [5e5, 501000]],
      [1e5, 1e5, [1.001, 0.995]],
      [1e-3, 1, [1e-5, 2, 30]],
      [0.5, 3, [1e-30, 1e-3, 4]],
      [7, 0.5, [14, 0.1]],
    ];
    for (const [a, b, xs] of gammas) {
      const got = call(new d.Gamma(a, b), 'logProb', xs);
      expectClose(
        got,
        xs.map((x) => gammaRef.logpdf(Math.fround(x), a, b)),
        2e-6,
        `Gamma(${a}, ${b})`,
      );
    }
    const inv: [number, number, number[]][] = [
      [1e4, 1e4, [1, 0.99]],
      [1e6, 2e6, [2, 2.003]],
      [1e5, 1, [1e-5, 1.01e-5]],
      [1e-3, 1, [1e-3, 100]],
      [3, 2, [0.5, 10]],
    ];
    for (const [a, b, xs] of inv) {
      const got = call(new d.InverseGamma(a, b), 'logProb', xs);
      expectClose(
        got,
        xs.map((x) => invgammaRef.logpdf(Math.fround(x), a, b)),
        3e-5,
        `InverseGamma(${a}, ${b})`,
      );
    }
  });

  it('Beta at large concentrations and near 0 and 1', () => {
    // the lbeta form gave Beta(1e4, 1e4) at 0.5: 4.7236 for 4.7259, (1e5, 2e5) at 0.334: 5.953
    // for 5.838; Beta(1, 1) at 0 and 1: 9.5e-7 for 0
    const cases: [number, number, number[]][] = [
      [1e4, 1e4, [0.5, 0.49]],
      [1e5, 2e5, [0.334, 0.3333]],
      [1e6, 3, [0.999998, 0.99999]],
      [0.5, 0.5, [1e-7, 0.25, 0.5]],
      [2, 3, [1e-30, 1e-6]],
      [1e-3, 1e-3, [0.5, 1e-4]],
      [1, 1, [0, 0.3, 1]],
      [0.5, 2, [1]],
      [2, 0.5, [0]],
    ];
    for (const [a, b, xs] of cases) {
      const got = call(new d.Beta(a, b), 'logProb', xs);
      // the reference at the float32 value the tensor holds
      const want = xs.map((x) => betaRef.logpdf(Math.fround(x), a, b));
      expectClose(got, want, 3e-5, `Beta(${a}, ${b})`);
    }
  });

  it('StudentT approaches the Normal at df 1e6..1e8 (logProb and cdf)', () => {
    // logProb at df 1e6 gave -1.0993 for -1.0439 (x = 0.5); at df 1e8 -15.74 for -5.419 (x = 3);
    // cdf at df 1e6 0.69474 for 0.69146, at df 1e8 0.5 for 0.99865
    const xs = [-4, 0.5, 3, 5];
    for (const df of [0.3, 3, 1e3, 2e4, 1e6, 1e8]) {
      const lp = call(new d.StudentT(df, 0, 1), 'logProb', xs);
      expectClose(
        lp,
        xs.map((x) => tRef.logpdf(x, df)),
        2e-6,
        `StudentT(${df}).logProb`,
      );
      const cdf = call(new d.StudentT(df, 0, 1), 'cdf', xs);
      expectClose(
        cdf,
        xs.map((x) => tRef.cdf(x, df)),
        2e-5,
        `StudentT(${df}).cdf`,
      );
    }
    const normal = call(new d.Normal(0, 1), 'logProb', xs);
    expectClose(call(new d.StudentT(1e8, 0, 1), 'logProb', xs), normal, 1e-6, 'df 1e8 vs Normal');
  });

  it('gradients in the parameters equal finite differences of the float64 densities', () => {
    const cases: [
      string,
      number[],
      number,
      (p: tf.Tensor[]) => distributions.Distribution,
      (p: number[], x: number) => number,
    ][] = [
      [
        'Gamma',
        [1e4, 2],
        5010,
        ([a, b]) => new d.Gamma(a!, b!),
        ([a, b], x) => gammaRef.logpdf(x, a!, b!),
      ],
      [
        'Gamma',
        [0.01, 1],
        0.3,
        ([a, b]) => new d.Gamma(a!, b!),
        ([a, b], x) => gammaRef.logpdf(x, a!, b!),
      ],
      [
        'InverseGamma',
        [1e5, 3e5],
        3.01,
        ([a, b]) => new d.InverseGamma(a!, b!),
        ([a, b], x) => invgammaRef.logpdf(x, a!, b!),
      ],
      [
        'Beta',
        [1e4, 3e4],
        0.251,
        ([a, b]) => new d.Beta(a!, b!),
        ([a, b], x) => betaRef.logpdf(x, a!, b!),
      ],
      [
        'Beta',
        [0.5, 0.5],
        0.01,
        ([a, b]) => new d.Beta(a!, b!),
        ([a, b], x) => betaRef.logpdf(x, a!, b!),
      ],
      [
        'StudentT',
        [1e5, 0.3, 2],
        1.5,
        ([n, l, s]) => new d.StudentT(n!, l!, s!),
        ([n, l, s], x) => tRef.logpdf((x - l!) / s!, n!) - Math.log(s!),
      ],
      [
        'StudentT',
        [2.5, 0.3, 2],
        8,
        ([n, l, s]) => new d.StudentT(n!, l!, s!),
        ([n, l, s], x) => tRef.logpdf((x - l!) / s!, n!) - Math.log(s!),
      ],
    ];
    for (const [name, params, x, build, ref] of cases) {
      const got = logProbGrad(build, params, x);
      const fd = finiteDiff((p) => ref(p, x), params, 1e-5 * Math.min(...params.map(Math.abs)));
      expect(got, `${name}(${params.join(', ')}) at ${x}`).toBeAllclose(fd, {
        rtol: 2e-3,
        atol: 1e-5,
      });
    }
  });
});

/** `log I_nu(k) - k` in float64: the power series below 30, Hankel's asymptotic series above. */
function logBesselScaledRef(nu: 0 | 1, k: number): number {
  if (k < 30) {
    let term = nu === 0 ? 1 : k / 2;
    let sum = term;
    for (let j = 1; j < 300; j++) {
      term *= (k * k) / 4 / (j * (j + nu));
      sum += term;
    }
    return Math.log(sum) - k;
  }
  let term = 1;
  let sum = 1;
  for (let j = 1; j < 15; j++) {
    term *= -(4 * nu * nu - (2 * j - 1) ** 2) / (8 * k * j);
    sum += term;
  }
  return -0.5 * Math.log(2 * Math.PI * k) + Math.log(sum);
}

describe('VonMises at concentrations 1e-6..1e5 (float64 Bessel series)', () => {
  it('logProb, circular variance and entropy', () => {
    // logProb at kappa 1e5 gave 4.84375 for 4.83752 (x = loc) and -120.133 for -120.136; at
    // kappa 1e3 2.53479 for 2.53481 (kappa cos d - log I_0(kappa), both of order kappa)
    const loc = 0.3;
    const xs = [0.3, 0.35, 1, -2.8];
    for (const k of [1e-6, 1e-3, 1, 50, 1e3, 1e5]) {
      const want = xs.map(
        (x) =>
          -2 * k * Math.sin((x - loc) / 2) ** 2 - Math.log(2 * Math.PI) - logBesselScaledRef(0, k),
      );
      expectClose(call(new d.VonMises(loc, k), 'logProb', xs), want, 2e-6, `VonMises(${k})`);
      const vm = new d.VonMises(loc, k);
      const oneMinus = -Math.expm1(logBesselScaledRef(1, k) - logBesselScaledRef(0, k));
      expect(expectNoLeak(() => vm.variance())).toBeAllclose([oneMinus], {
        rtol: 1e-4,
        atol: 1e-7,
      });
      const h = Math.log(2 * Math.PI) + logBesselScaledRef(0, k) + k * oneMinus;
      expect(expectNoLeak(() => vm.entropy())).toBeAllclose([h], { rtol: 1e-5, atol: 1e-5 });
      vm.dispose();
    }
  });
});

describe('MultivariateStudentT at large df', () => {
  it('matches the float64 density and approaches the MultivariateNormal', () => {
    // df 1e6 gave -5.2858 for -5.1022, df 1e8 -31.69 (lgamma((nu + d)/2) - lgamma(nu/2))
    const loc = [0, 1, 2];
    const L = [
      [1, 0, 0],
      [0.5, 2, 0],
      [0, 0.3, 1],
    ];
    const x = [0.5, -1, 3];
    // forward substitution L z = x - loc, in float64
    const z: number[] = [];
    for (let i = 0; i < 3; i++) {
      let r = x[i]! - loc[i]!;
      for (let j = 0; j < i; j++) r -= L[i]![j]! * z[j]!;
      z.push(r / L[i]![i]!);
    }
    const maha = z.reduce((a, v) => a + v * v, 0);
    const logDet = L.reduce((a, row, i) => a + Math.log(row[i]!), 0);
    const ref = (nu: number): number =>
      gammaln((nu + 3) / 2) -
      gammaln(nu / 2) -
      1.5 * Math.log(nu * Math.PI) -
      logDet -
      ((nu + 3) / 2) * Math.log1p(maha / nu);
    for (const nu of [0.5, 5, 1e4, 1e6, 1e8]) {
      const mvt = new d.MultivariateStudentT(nu, loc, L);
      expectClose(
        expectNoLeak(() => mvt.logProb(x)),
        [ref(nu)],
        2e-6,
        `MVT(${nu})`,
      );
      mvt.dispose();
    }
    const mvn = new d.MultivariateNormal(loc, { scaleTril: L });
    const normal = expectNoLeak(() => mvn.logProb(x));
    mvn.dispose();
    const mvt = new d.MultivariateStudentT(1e8, loc, L);
    expectClose(
      expectNoLeak(() => mvt.logProb(x)),
      normal,
      2e-6,
      'df 1e8 vs MVN',
    );
    mvt.dispose();
  });
});

describe('Dirichlet at large concentrations', () => {
  it('matches the float64 density at points of the simplex exact in float32', () => {
    // the lgamma form gave [1e4, 2e4, 3e4] at [1/8, 3/8, 1/2]-like points 0.05 nats off,
    // [1e5, 1e5] at [1/2, 1/2] 5.953 for 5.877
    const cases: [number[], number[]][] = [
      [
        [1e4, 2e4, 3e4],
        [0.125, 0.375, 0.5],
      ],
      [
        [1e5, 1e5],
        [0.5, 0.5],
      ],
      [
        [1e6, 2, 1e6],
        [0.4375, 0.125, 0.4375],
      ],
      [
        [0.5, 2, 3],
        [0.0625, 0.3125, 0.625],
      ],
      [
        [1e-3, 1, 1e3],
        [0.25, 0.25, 0.5],
      ],
      [
        [1, 1, 1],
        [0, 0.5, 0.5],
      ],
    ];
    for (const [alpha, x] of cases) {
      const a0 = alpha.reduce((a, b) => a + b, 0);
      let ref = gammaln(a0);
      alpha.forEach((a, i) => {
        ref += (a === 1 ? 0 : (a - 1) * Math.log(x[i]!)) - gammaln(a);
      });
      const dir = new d.Dirichlet(alpha);
      expectClose(
        expectNoLeak(() => dir.logProb(x)),
        [ref],
        3e-6,
        `Dirichlet([${alpha.join(', ')}])`,
      );
      dir.dispose();
    }
  });
});

describe('draws at extreme parameters', () => {
  const n = 20000;
  const cases: [string, () => distributions.Distribution, number, number][] = [
    ['Gamma(1e-3, 1)', () => new d.Gamma(1e-3, 1), 1e-3, 1e-3],
    ['Gamma(1e5, 2)', () => new d.Gamma(1e5, 2), 5e4, 2.5e4],
    ['Beta(0.01, 0.02)', () => new d.Beta(0.01, 0.02), 1 / 3, 0.0002 / (0.0009 * 1.03)],
    ['Beta(1e4, 3e4)', () => new d.Beta(1e4, 3e4), 0.25, 3e8 / (1.6e9 * (4e4 + 1))],
    [
      'InverseGamma(1e4, 1e4)',
      () => new d.InverseGamma(1e4, 1e4),
      1e4 / 9999,
      1e8 / (9999 ** 2 * 9998),
    ],
    ['StudentT(1e6)', () => new d.StudentT(1e6, 0, 1), 0, 1e6 / (1e6 - 2)],
    ['VonMises(0, 1e3)', () => new d.VonMises(0, 1e3), 0, 1e-3 * (1 + 1 / 2e3)],
    ['Poisson(1e6)', () => new d.Poisson(1e6), 1e6, 1e6],
    ['Binomial(1e6, 1e-5)', () => new d.Binomial(1e6, { probs: 1e-5 }), 10, 10 * (1 - 1e-5)],
  ];
  it('sample means within 5 standard errors', () => {
    for (const [name, make, mean, variance] of cases) {
      const dist = make();
      const m = expectNoLeak(() => tf.tidy(() => tf.mean(dist.sample([n], 11))))[0]!;
      dist.dispose();
      expect(Math.abs(m - mean), name).toBeLessThan(5 * Math.sqrt(variance / n));
    }
  });

  it('rsample gradients: the mean of per-draw gradients is d E[X] / d theta (5 SE)', () => {
    // Gamma(a, b): dE/da = 1/b; Beta(a, b): dE/da = b / (a + b)^2 (implicit reparameterization)
    const grads: [string, number[], (p: tf.Tensor[]) => distributions.Distribution, number][] = [
      ['Gamma(1e-2, 1)', [1e-2, 1], ([a, b]) => new d.Gamma(a!, b!), 1],
      ['Gamma(1e5, 2)', [1e5, 2], ([a, b]) => new d.Gamma(a!, b!), 0.5],
      ['Beta(1e4, 3e4)', [1e4, 3e4], ([a, b]) => new d.Beta(a!, b!), 3e4 / 1.6e9],
    ];
    for (const [name, params, build, want] of grads) {
      const before = tf.memory().numTensors;
      const ts = params.map((v) => tf.fill([n], v));
      const g = tf.grad((a: tf.Tensor) => {
        const dist = build([a, ts[1]!]);
        const x = tf.sum(dist.rsample([], 5));
        dist.dispose();
        return x;
      })(ts[0]!);
      const v = Array.from(g.dataSync());
      g.dispose();
      ts.forEach((t) => t.dispose());
      expect(tf.memory().numTensors).toBe(before);
      expect(v.every(Number.isFinite), name).toBe(true);
      const mean = v.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      expect(Math.abs(mean - want), name).toBeLessThan(5 * (sd / Math.sqrt(n)) + 1e-9);
    }
  });
});
