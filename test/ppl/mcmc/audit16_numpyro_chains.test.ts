/**
 * Audit (NumPyro parity): `chainMethod` for every kernel we ship, `groupByChain` layouts, thinning,
 * extra fields against independent recomputation.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';

const { sample } = ppl;
const ys = [0.8, 1.6, 0.3, 1.1, 2.0];

function model(): void {
  const mu = sample('mu', new D.Normal(0, 2));
  ppl.plate('data', ys.length, () => sample('y', new D.Normal(mu, 1), { obs: tf.tensor1d(ys) }));
}

type KernelMaker = [string, () => ppl.mcmc.HamiltonianKernel];
const parallelKernels: KernelMaker[] = [
  ['RandomWalkMH', () => new ppl.RandomWalkMH(model)],
  ['BarkerMH', () => new ppl.BarkerMH(model, { fullMass: true })],
  ['SA', () => new ppl.SA(model, { adaptStateSize: 5 })],
];

async function runDraws(
  make: () => ppl.mcmc.HamiltonianKernel,
  cm: 'sequential' | 'parallel' | 'vectorized',
  numChains = 2,
): Promise<number[]> {
  const m = new ppl.MCMC(make(), {
    thinning: 2,
    numSamples: 60,
    warmupSteps: 30,
    numChains,
    chainMethod: cm,
    seed: 3,
    progressBar: false,
  });
  await m.run();
  const g = m.getSamples({ groupByChain: true });
  expect(g.mu!.shape).toEqual([numChains, 30]);
  expect(m.getExtraFields()[0]!.acceptStat.length).toBe(30);
  const v = Array.from(g.mu!.dataSync());
  tf.dispose(Object.values(g));
  return v;
}

describe("chainMethod: 'parallel' beyond NUTS/HMC (NumPyro accepts it for every kernel)", () => {
  for (const [name, make] of parallelKernels) {
    it(`${name}: parallel chains give the sequential draws bit for bit`, async () => {
      const before = tf.memory().numTensors;
      const seq = await runDraws(make, 'sequential');
      const par = await runDraws(make, 'parallel');
      expect(par).toEqual(seq);
      expect(seq.every(Number.isFinite)).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
    }, 60000);
  }

  it('kernels that cannot run in workers are refused when MCMC is built, naming the kernel', () => {
    const refused: [string, () => ppl.mcmc.HamiltonianKernel][] = [
      ['EllipticalSlice', () => new ppl.EllipticalSlice(model)],
      [
        'HMCGibbs',
        () => new ppl.HMCGibbs(new ppl.NUTS(model), { gibbsFn: () => ({}), gibbsSites: ['mu'] }),
      ],
    ];
    for (const [name, make] of refused) {
      let err: unknown;
      try {
        new ppl.MCMC(make(), {
          numSamples: 5,
          numChains: 2,
          chainMethod: 'parallel',
          progressBar: false,
        });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect(String((err as Error).message)).toContain('chainMethod');
      expect(String((err as Error).message)).toContain(name);
    }
  });
});
