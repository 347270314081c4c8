/**
 * MCMC's option objects: a typo or Pyro's snake_case name is an error naming the key (it used to
 * be ignored silently), boolean options are booleans, and a subsampled plate is refused.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Normal } from '../../../src/distributions/index.js';
import { plate } from '../../../src/ppl/handlers/plate.js';
import { HMC, MCMC, NUTS } from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { checkOptionKeys } from '../../../src/utils/options.js';

const model = (): void => {
  sample('x', new Normal(0, 1));
};

describe('MCMC options', () => {
  it('unknown keys are errors naming the key, with the camelCase name when it exists', () => {
    expect(() => new NUTS(model, { max_tree_depth: 5 } as never)).toThrow(
      /^max_tree_depth: not an option of NUTS \(did you mean maxTreeDepth\?\)/,
    );
    expect(() => new NUTS(model, { maxTreedepth: 5 } as never)).toThrow(
      /^maxTreedepth: not an option of NUTS \(options: .*maxTreeDepth/,
    );
    expect(() => new HMC(model, { target_accept_prob: 0.9 } as never)).toThrow(
      /^target_accept_prob: not an option of HMC \(did you mean targetAcceptProb\?\)/,
    );
    expect(() => new HMC(model, { maxTreeDepth: 5 } as never)).toThrow(/^maxTreeDepth: not an/);
    const k = new NUTS(model);
    expect(() => new MCMC(k, { numSamples: 10, num_warmup: 5 } as never)).toThrow(
      /^num_warmup: not an option of MCMC \(did you mean numWarmup\?\)/,
    );
    expect(() => new MCMC(k, { numSamples: 10, num_chains: 2 } as never)).toThrow(
      /did you mean numChains\?/,
    );
    // every documented option is accepted, and undefined values count as absent
    expect(
      () =>
        new NUTS(model, {
          stepSize: 0.5,
          adaptStepSize: true,
          adaptMassMatrix: false,
          fullMass: false,
          targetAcceptProb: 0.9,
          maxDeltaEnergy: 500,
          compile: false,
          initBuffer: 10,
          termBuffer: 10,
          baseWindow: 5,
          maxTreeDepth: 6,
          inverseMassMatrix: undefined,
        }),
    ).not.toThrow();
    expect(() => checkOptionKeys({ a: 1, b: undefined }, ['a'], 'f')).not.toThrow();
  });

  it('getSamples names an unknown or non-boolean option (group_by_chain was ignored)', async () => {
    const mcmc = new MCMC(new NUTS(model), {
      numSamples: 5,
      warmupSteps: 5,
      numChains: 2,
      progressBar: false,
      seed: 1,
    });
    await mcmc.run();
    expect(() => mcmc.getSamples({ group_by_chain: true } as never)).toThrow(
      /^group_by_chain: not an option of getSamples \(did you mean groupByChain\?\)/,
    );
    expect(() => mcmc.getSamples({ groupByChain: 1 } as never)).toThrow(/^groupByChain: expected/);
    const s = mcmc.getSamples({ groupByChain: true });
    expect(s.x?.shape).toEqual([2, 5]);
    tf.dispose(Object.values(s));
  });

  it('boolean options must be booleans', () => {
    for (const key of ['adaptStepSize', 'adaptMassMatrix', 'fullMass']) {
      const f = (): NUTS => new NUTS(model, { [key]: 'yes' });
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(new RegExp(`^${key}: expected true or false, got yes`));
    }
  });

  it('a subsampled plate is refused naming the site and the plate, before any draw', async () => {
    const y = tf.linspace(0, 1, 30);
    const sub = (): void => {
      const mu = sample('mu', new Normal(0, 10));
      plate('data', 30, { subsampleSize: 3 }, (i) =>
        sample('y', new Normal(mu, 1), { obs: tf.gather(y, i) }),
      );
    };
    const before = tf.memory().numTensors;
    const mcmc = new MCMC(new NUTS(sub), { numSamples: 5, warmupSteps: 5, progressBar: false });
    await expect(mcmc.run()).rejects.toThrow(
      /^model: MCMC: site 'y' is inside plate 'data' subsampled to 3 of 30/,
    );
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });
});
