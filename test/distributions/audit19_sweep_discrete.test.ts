/**
 * Audit 19, the property sweep, part 2: every exported scalar discrete family (and wrappers over
 * one) with batched parameters, tame and at the edges (probabilities 0 and 1, a zero count,
 * rates spanning 1e-3..50), against brute-force enumeration of its own `logProb` over
 * `0..K` (K far in the tail): the masses sum to 1; `mean`, `variance`, `entropy` equal the sums
 * `Σ k p_k`, `Σ (k - m)² p_k`, `-Σ p_k log p_k`; `cdf(k) = Σ_{j<=k} p_j`; non-integers and
 * negative values score `-Infinity`; `enumerateSupport` (where the support is finite) lists
 * `0..n` as `[K, ...batch]` (`[K, 1, ...]` unexpanded), also after `expand`, and its masses sum
 * to 1 (torch's `enumerate_support` semantics).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';
import { definedValues, expectNear } from './defined_values.js';

const d = distributions;
type Dist = distributions.Distribution;

interface Row {
  name: string;
  /** The family with batch `[B]` and the bases it does not own. */
  make: () => { dist: Dist; owned: Dist[] };
  /** The largest value summed (the mass beyond it is below float32's resolution). */
  kMax: number;
  /** The support is finite and enumerable (torch's `has_enumerate_support`). */
  enumerable?: boolean;
}

const own = (dist: Dist, ...parts: Dist[]): { dist: Dist; owned: Dist[] } => ({
  dist,
  owned: [dist, ...parts],
});

const ROWS: Row[] = [
  { name: 'Bernoulli', make: () => own(new d.Bernoulli([0, 0.3, 1])), kMax: 1, enumerable: true },
  {
    name: 'Bernoulli(logits)',
    make: () => own(new d.Bernoulli({ logits: [-30, 0.4, 25] })),
    kMax: 1,
    enumerable: true,
  },
  {
    name: 'Binomial',
    make: () => own(new d.Binomial(12, [0, 0.37, 1])),
    kMax: 12,
    enumerable: true,
  },
  {
    // one count held in a batched tensor: enumerable, as torch (min == max)
    name: 'Binomial (batched equal counts)',
    make: () => own(new d.Binomial([4, 4, 4], [0.1, 0.5, 0.9])),
    kMax: 4,
    enumerable: true,
  },
  {
    name: 'Binomial (counts vary)',
    make: () => own(new d.Binomial([0, 5, 40], { logits: [2, -1, 0.3] })),
    kMax: 40,
  },
  {
    name: 'Categorical',
    make: () =>
      own(
        new d.Categorical([
          [0.2, 0, 0.8],
          [1, 0, 0],
          [0.3, 0.3, 0.4],
        ]),
      ),
    kMax: 2,
    enumerable: true,
  },
  {
    name: 'Categorical(logits)',
    make: () =>
      own(
        new d.Categorical({
          logits: [
            [-40, 0, 40],
            [1, 2, 3],
          ],
        }),
      ),
    kMax: 2,
    enumerable: true,
  },
  { name: 'Geometric', make: () => own(new d.Geometric([0.02, 0.5, 1])), kMax: 1500 },
  { name: 'Poisson', make: () => own(new d.Poisson([1e-3, 2.5, 50])), kMax: 200 },
  {
    name: 'NegativeBinomial',
    make: () => own(new d.NegativeBinomial([0.5, 3, 40], [0.1, 0.5, 0.8])),
    kMax: 800,
  },
  {
    name: 'NegativeBinomial(logits)',
    make: () => own(new d.NegativeBinomial([2, 7], { logits: [-2, 1] })),
    kMax: 300,
  },
  {
    name: 'GammaPoisson',
    make: () => own(new d.GammaPoisson([0.4, 2, 30], [0.2, 1, 3])),
    kMax: 600,
  },
  {
    name: 'BetaBinomial',
    make: () => own(new d.BetaBinomial([0.5, 2, 30], [0.3, 3, 1], 9)),
    kMax: 9,
    enumerable: true,
  },
  {
    name: 'ZeroInflatedPoisson',
    make: () => own(new d.ZeroInflatedPoisson([0.5, 3, 20], { gate: [0, 0.4, 0.9] })),
    kMax: 100,
  },
  {
    name: 'ZeroInflatedNegativeBinomial',
    make: () =>
      own(new d.ZeroInflatedNegativeBinomial([2, 5], [0.3, 0.6], { gateLogits: [-1, 2] })),
    kMax: 300,
  },
  {
    name: 'ZeroInflatedDistribution(Binomial)',
    make: () => {
      const b = new d.Binomial(6, [0.2, 0.5, 0.9]);
      return own(new d.ZeroInflatedDistribution(b, { gate: [0.1, 0.5, 0.9] }), b);
    },
    kMax: 6,
  },
  {
    name: 'DiscreteUniform',
    make: () => own(new d.DiscreteUniform([0, 0, 0], [4, 4, 4])),
    kMax: 4,
    enumerable: true,
  },
  {
    name: 'DiscreteUniform (bounds vary)',
    make: () => own(new d.DiscreteUniform([0, 2, 5], [0, 7, 9])),
    kMax: 9,
  },
  {
    name: 'OrderedLogistic',
    make: () => own(new d.OrderedLogistic([-2, 0, 3], [-1, 0.5, 1.5])),
    kMax: 3,
    enumerable: true,
  },
  {
    name: 'MixtureSameFamily(Poisson)',
    make: () => {
      const mix = new d.Categorical([
        [0.3, 0.7],
        [0.9, 0.1],
      ]);
      const comp = new d.Poisson([
        [1, 10],
        [0.5, 4],
      ]);
      return own(new d.MixtureSameFamily(mix, comp), mix, comp);
    },
    kMax: 60,
  },
  {
    name: 'MaskedDistribution(Binomial)',
    make: () => {
      const b = new d.Binomial(3, [0.2, 0.5]);
      return own(new d.MaskedDistribution(b, true), b);
    },
    kMax: 3,
    enumerable: true,
  },
];

const close = (a: number, b: number, rtol: number, atol: number, what: string): void =>
  expectNear(a, b, rtol, atol, what, 'enumeration');

describe.each(ROWS)('$name against enumeration of its masses', (row) => {
  it('masses sum to 1; moments, entropy and cdf are the sums; off-support values score -inf', () => {
    const before = tf.memory().numTensors;
    const { dist, owned } = row.make();
    try {
      expect(dist.eventShape).toEqual([]);
      const b = dist.batchShape[0] as number;
      const n = row.kMax + 1;
      const ks = tf.tidy(() => tf.tile(tf.range(0, n).reshape([n, 1]), [1, b]));
      const lp = definedValues(() => dist.logProb(ks))?.v as number[];
      const c = definedValues(() => dist.cdf(ks))?.v;
      ks.dispose();
      const mean = definedValues(() => dist.mean())?.v;
      const variance = definedValues(() => dist.variance())?.v;
      const entropy = definedValues(() => dist.entropy())?.v;
      for (let j = 0; j < b; j++) {
        const p = Array.from({ length: n }, (_, k) => Math.exp(lp[k * b + j] as number));
        expect(
          p.every((x) => Number.isFinite(x)),
          `[${j}] masses finite`,
        ).toBe(true);
        close(
          p.reduce((s, x) => s + x, 0),
          1,
          0,
          2e-5 * Math.sqrt(n),
          `[${j}] Σ p`,
        );
        const m = p.reduce((s, x, k) => s + k * x, 0);
        // a label's mean is NaN by design (Categorical, as torch)
        if (mean !== undefined && !Number.isNaN(mean[j]))
          close(mean[j] as number, m, 1e-4, 1e-5, `[${j}] mean`);
        if (variance !== undefined && !Number.isNaN(variance[j])) {
          const v = p.reduce((s, x, k) => s + (k - m) ** 2 * x, 0);
          close(variance[j] as number, v, 1e-3, 1e-5, `[${j}] variance`);
        }
        if (entropy !== undefined) {
          const h = p.reduce((s, x) => (x > 0 ? s - x * Math.log(x) : s), 0);
          close(entropy[j] as number, h, 1e-3, 1e-5, `[${j}] entropy`);
        }
        if (c !== undefined) {
          let acc = 0;
          for (let k = 0; k < n; k++) {
            acc += p[k] as number;
            close(c[k * b + j] as number, Math.min(acc, 1), 0, 1e-4, `[${j}] cdf(${k})`);
          }
        }
      }
      // non-integers and negative values are outside every support here
      const offValues = tf.tidy(() => tf.tile(tf.tensor([[-1], [0.5], [n + 0.5]]), [1, b]));
      const off = definedValues(() => dist.logProb(offValues))?.v as number[];
      offValues.dispose();
      expect(
        off.every((v) => v === -Infinity),
        `off-support: ${off.join(',')}`,
      ).toBe(true);
    } finally {
      for (const o of owned) o.dispose();
    }
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
  });
});

describe.each(ROWS.filter((r) => r.enumerable === true))('$name enumerateSupport', (row) => {
  it('enumerateSupport lists 0..n as [K, ...batch] ([K, 1] unexpanded), also after expand', () => {
    const before = tf.memory().numTensors;
    const { dist, owned } = row.make();
    const ex = dist.expand([2, ...dist.batchShape]);
    try {
      const b = dist.batchShape[0] as number;
      const k = row.kMax + 1;
      const e = dist.enumerateSupport();
      const e0 = dist.enumerateSupport(false);
      const ee = ex.enumerateSupport();
      const ee0 = ex.enumerateSupport(false);
      try {
        expect(e.shape).toEqual([k, b]);
        expect(e0.shape).toEqual([k, 1]);
        expect(ee.shape).toEqual([k, 2, b]);
        expect(ee0.shape).toEqual([k, 1, 1]);
        expect(Array.from(e0.dataSync())).toEqual(Array.from({ length: k }, (_, i) => i));
        const tot = definedValues(() => tf.tidy(() => tf.sum(tf.exp(ex.logProb(ee0)), 0)))
          ?.v as number[];
        expect(tot).toBeAllclose(Array(2 * b).fill(1), { atol: 1e-5 });
      } finally {
        tf.dispose([e, e0, ee, ee0]);
      }
    } finally {
      ex.dispose();
      for (const o of owned) o.dispose();
    }
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
  });
});
