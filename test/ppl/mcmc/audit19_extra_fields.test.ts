/**
 * Audit 19: NumPyro's extra-field names. A NumPyro user reads `get_extra_fields()["diverging"]`
 * (and `accept_prob`, `num_steps`, `potential_energy`, `adapt_state.step_size` given to
 * `run(extra_fields=...)`); `getExtraFields({groupByChain})` had our names only, so those reads
 * were `undefined`. `getExtraFields({groupByChain, fields})` now takes ours or NumPyro's, each
 * returned under the name asked for, as `[chains, kept]` / `[chains * kept]` tensors (thinned
 * runs: the kept iterations), for every kernel; an unknown name is an ArgumentError naming
 * `fields` and listing the known ones. `potential_energy` is checked against `U` at each draw of a
 * closed-form potential, `accept_prob` of an ensemble against `[0, 1]`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ppl } from '../../../src/index.js';
import type { Potential } from '../../../src/ppl/mcmc/potential.js';
import { expectArgumentError } from '../../helpers.js';

// U(z) = ((z0 - 1)^2 + (z1 + 2)^2 / 4) / 2
const U = (z: ArrayLike<number>): number => 0.5 * ((z[0]! - 1) ** 2 + (z[1]! + 2) ** 2 / 4);
const gauss: Potential = {
  dim: 2,
  valueAndGrad: (z) => ({
    value: U(z),
    grad: Float64Array.of(z[0]! - 1, (z[1]! + 2) / 4),
  }),
};

const NUMPYRO = ['diverging', 'accept_prob', 'num_steps', 'potential_energy'];
const OURS = ['divergent', 'acceptStat', 'numSteps', 'potentialEnergy'];

const cases: [string, () => ppl.mcmc.HamiltonianKernel, number, 'sequential' | 'vectorized'][] = [
  ['NUTS', () => new ppl.NUTS(gauss), 2, 'sequential'],
  ['BarkerMH', () => new ppl.BarkerMH(gauss), 2, 'vectorized'],
  ['SA', () => new ppl.SA(gauss), 2, 'sequential'],
  ['AIES', () => new ppl.AIES(gauss), 6, 'vectorized'],
];

describe("getExtraFields({fields}) with NumPyro's names", () => {
  for (const [name, make, chains, chainMethod] of cases) {
    it(`${name}: NumPyro's names are our fields under those names; potential_energy is U at each draw`, () => {
      const before = tf.memory().numTensors;
      const m = new ppl.MCMC(make(), {
        numSamples: 12,
        warmupSteps: 10,
        numChains: chains,
        chainMethod,
        thinning: 3,
        seed: 5,
        progressBar: false,
      });
      m.runSync();
      const np = m.getExtraFields({ groupByChain: true, fields: NUMPYRO });
      const ours = m.getExtraFields({ groupByChain: true, fields: OURS });
      const all = m.getExtraFields({ groupByChain: true });
      expect(Object.keys(np)).toEqual(NUMPYRO);
      expect(Object.keys(ours)).toEqual(OURS);
      expect(Object.keys(all).sort()).toEqual([...ppl.mcmc.EXTRA_FIELDS].sort());
      NUMPYRO.forEach((k, i) => {
        const t = np[k]!;
        expect(t.shape, k).toEqual([chains, 4]);
        expect(t.dtype).toBe(ours[OURS[i]!]!.dtype);
        expect(Array.from(t.dataSync())).toEqual(Array.from(ours[OURS[i]!]!.dataSync()));
      });
      expect(np.diverging!.dtype).toBe('bool');
      expect(np.num_steps!.dtype).toBe('int32');
      const acc = Array.from(np.accept_prob!.dataSync());
      expect(acc.every((a) => a >= 0 && a <= 1)).toBe(true);
      // potential_energy of each kept draw is U there (float32 storage)
      const s = m.getSamples({ groupByChain: true });
      const z = Object.values(s)[0]!.arraySync() as number[][][];
      const pe = np.potential_energy!.arraySync() as number[][];
      z.forEach((ch, c) => ch.forEach((d, i) => expect(pe[c]![i]!).toBeCloseTo(U(d), 4)));
      const flat = m.getExtraFields({ fields: ['adapt_state.step_size', 'energy'] });
      expect(Object.keys(flat)).toEqual(['adapt_state.step_size', 'energy']);
      expect(flat['adapt_state.step_size']!.shape).toEqual([chains * 4]);
      tf.dispose([
        ...Object.values(np),
        ...Object.values(ours),
        ...Object.values(all),
        ...Object.values(s),
        ...Object.values(flat),
      ]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('an unknown field name, or fields not an array: ArgumentError naming fields, nothing made', () => {
    const m = new ppl.MCMC(new ppl.NUTS(gauss), {
      numSamples: 3,
      warmupSteps: 2,
      seed: 1,
      progressBar: false,
    });
    // before run() too: the options are checked first
    expectArgumentError(
      () => m.getExtraFields({ fields: ['mean_acceptance'] }),
      'fields',
      /unknown extra field "mean_acceptance".*accept_prob/,
    );
    m.runSync();
    const before = tf.memory().numTensors;
    expectArgumentError(() => m.getExtraFields({ fields: ['diverging', 'z'] }), 'fields', /"z"/);
    expectArgumentError(
      () => m.getExtraFields({ fields: 'accept_prob' as never }),
      'fields',
      /array/,
    );
    expectArgumentError(() => m.getExtraFields({ fields: [3] as never }), 'fields', /3/);
    expectArgumentError(
      () => m.getExtraFields({ field: ['diverging'] } as never),
      'field',
      /not an option/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
