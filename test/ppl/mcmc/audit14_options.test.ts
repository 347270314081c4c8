/**
 * Audit (fresh eyes): bad options and inputs of MCMC/NUTS/HMC give an ArgumentError naming the
 * argument before any work; the driver's API (getSamples, groupByChain, summary, lastState,
 * reproducibility, chain methods, init strategies) as a Pyro/NumPyro user calls it.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal, Poisson } from '../../../src/distributions/index.js';
import * as ppl from '../../../src/ppl/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { setSeed } from '../../../src/utils/seed.js';

const model = (): void => {
  ppl.sample('x', new Normal(0, 1));
};

function argErr(fn: () => unknown, name: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ArgumentError);
  expect(String((err as Error).message)).toMatch(name);
}

async function argErrAsync(fn: () => Promise<unknown>, name: RegExp): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ArgumentError);
  expect(String((err as Error).message)).toMatch(name);
}

describe('audit14: bad MCMC options', () => {
  const k = (): ppl.NUTS => new ppl.NUTS(model);
  it.each([
    [{ numSamples: 0 }, /numSamples/],
    [{ numSamples: -5 }, /numSamples/],
    [{ numSamples: 2.5 }, /numSamples/],
    [{ numSamples: NaN }, /numSamples/],
    [{ numSamples: Infinity }, /numSamples/],
    [{ numSamples: '10' }, /numSamples/],
    [{ numSamples: 10, warmupSteps: -1 }, /warmupSteps/],
    [{ numSamples: 10, warmupSteps: NaN }, /warmupSteps/],
    [{ numSamples: 10, numChains: 0 }, /numChains/],
    [{ numSamples: 10, numChains: 1.5 }, /numChains/],
    [{ numSamples: 10, chainMethod: 'threads' }, /chainMethod/],
    [{ numSamples: 10, num_warmup: 5 }, /num_warmup/],
    [{ numSamples: 10, seed: NaN }, /seed/],
    [{ numSamples: 10, progressBar: 'yes' }, /progressBar/],
    [{ numSamples: 10, progressBar: 1 }, /progressBar/],
    [{ numSamples: 10, progressBar: {} }, /progressBar/],
  ])('MCMC options %o are refused naming the option', (opts, re) => {
    argErr(() => new ppl.MCMC(k(), opts as unknown as ppl.MCMCOptions), re);
  });

  it('a missing options object and a non-kernel are refused', () => {
    argErr(() => new ppl.MCMC(k(), undefined as unknown as ppl.MCMCOptions), /options/);
    argErr(() => new ppl.MCMC(model as unknown as ppl.NUTS, { numSamples: 5 }), /kernel/);
  });
});

describe('audit14: bad NUTS/HMC options', () => {
  it.each([
    [{ stepSize: NaN }, /stepSize/],
    [{ stepSize: -0.1 }, /stepSize/],
    [{ stepSize: 0 }, /stepSize/],
    [{ stepSize: Infinity }, /stepSize/],
    [{ targetAcceptProb: 0 }, /targetAcceptProb/],
    [{ targetAcceptProb: 1 }, /targetAcceptProb/],
    [{ targetAcceptProb: 1.5 }, /targetAcceptProb/],
    [{ targetAcceptProb: NaN }, /targetAcceptProb/],
    [{ targetAcceptProb: '0.8' }, /targetAcceptProb/],
    [{ maxDeltaEnergy: '1000' }, /maxDeltaEnergy/],
    [{ stepSize: '0.1' }, /stepSize/],
    [{ maxTreeDepth: '5' }, /maxTreeDepth/],
    [{ maxTreeDepth: 0 }, /maxTreeDepth/],
    [{ maxTreeDepth: 2.5 }, /maxTreeDepth/],
    [{ maxTreeDepth: -1 }, /maxTreeDepth/],
    [{ maxTreeDepth: NaN }, /maxTreeDepth/],
    [{ max_tree_depth: 5 }, /max_tree_depth/],
    [{ fullMass: 'yes' }, /fullMass/],
    [{ adaptStepSize: 1 }, /adaptStepSize/],
    [{ maxDeltaEnergy: -1 }, /maxDeltaEnergy/],
    [{ maxDeltaEnergy: NaN }, /maxDeltaEnergy/],
    [{ inverseMassMatrix: [1, -1] }, /inverseMassMatrix/],
    [{ inverseMassMatrix: [NaN] }, /inverseMassMatrix/],
    [{ inverseMassMatrix: [-1] }, /inverseMassMatrix/],
    [{ inverseMassMatrix: [1, 2, 3], fullMass: true }, /inverseMassMatrix/],
    [{ inverseMassMatrix: [1, 2, 0, 1], fullMass: true }, /inverseMassMatrix/],
    [{ inverseMassMatrix: [1, 2, 2, 1], fullMass: true }, /inverseMassMatrix/],
    [{ initStrategy: 42 }, /initStrategy/],
    [{ initStrategy: 'bogus' }, /initStrategy/],
  ])('NUTS options %o are refused naming the option', (opts, re) => {
    argErr(() => new ppl.NUTS(model, opts as unknown as ppl.NUTSOptions), re);
  });

  it.each([
    [{ numSteps: 0 }, /numSteps/],
    [{ numSteps: 2.5 }, /numSteps/],
    [{ trajectoryLength: -1 }, /trajectoryLength/],
    [{ trajectoryLength: NaN }, /trajectoryLength/],
    [{ num_steps: 3 }, /num_steps/],
    [{ trajectoryLength: '1' }, /trajectoryLength/],
    [{ numSteps: '3' }, /numSteps/],
  ])('HMC options %o are refused naming the option', (opts, re) => {
    argErr(() => new ppl.HMC(model, opts as unknown as ppl.HMCOptions), re);
  });

  it('a non-model target is refused', () => {
    argErr(() => new ppl.NUTS(42 as unknown as () => void), /model|target|potential/);
    argErr(() => new ppl.NUTS(undefined as unknown as () => void), /model|target|potential/);
  });
});

describe('audit14: models MCMC cannot run', () => {
  const run = async (m: () => void, kopts: ppl.NUTSOptions = {}): Promise<void> => {
    const mcmc = new ppl.MCMC(new ppl.NUTS(m, kopts), {
      numSamples: 5,
      warmupSteps: 5,
      progressBar: false,
    });
    await mcmc.run();
  };

  it('a model without latent sites is refused', async () => {
    const before = tf.memory().numTensors;
    await argErrAsync(
      () =>
        run(() => {
          ppl.sample('y', new Normal(0, 1), { obs: tf.scalar(1) });
        }),
      /latent/,
    );
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(0);
  });

  it('a discrete latent of infinite support is refused naming the site', async () => {
    await argErrAsync(
      () =>
        run(() => {
          const n = ppl.sample('n', new Poisson(3));
          ppl.sample('y', new Normal(n, 1), { obs: tf.scalar(1) });
        }),
      /'?n'?/,
    );
  });

  it("a model's own error propagates with its message, without leaking tensors", async () => {
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      await run(() => {
        ppl.sample('x', new Normal(0, 1));
        throw new Error('boom in model');
      });
    } catch (e) {
      err = e;
    }
    expect(String((err as Error).message)).toMatch(/boom in model/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('initToValue outside the support is refused naming the site', async () => {
    const m = (): void => {
      ppl.sample('s', new HalfNormal(1));
    };
    await argErrAsync(() => run(m, { initStrategy: ppl.initToValue({ s: -1 }) }), /'?s'?/);
  });
});

describe('audit14: driver API', () => {
  it('getSamples before run, and bad getSamples/summary arguments', async () => {
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), { numSamples: 20, progressBar: false });
    argErr(() => mcmc.getSamples(), /run/);
    argErr(() => mcmc.summary(), /run/);
    await mcmc.run();
    argErr(() => mcmc.getSamples({ groupByChain: 'yes' } as unknown as object), /groupByChain/);
    argErr(() => mcmc.getSamples({ group_by_chain: true } as unknown as object), /group_by_chain/);
    argErr(() => mcmc.summary(1.5), /prob/);
    argErr(() => mcmc.summary(0), /prob/);
    // a string was coerced: '0.9' gave "expected a number in [0, 1], got 5.45"
    argErr(() => mcmc.summary('0.9' as unknown as number), /prob.*\(0, 1\), got 0\.9/);
    argErr(() => mcmc.printSummary(NaN), /prob/);
  });

  it('two chains: flat and grouped shapes, grouped[c] equals the flat slice, per chain method', async () => {
    const m = (): void => {
      ppl.plate('p', 3, () => ppl.sample('x', new Normal(tf.tensor1d([0, 1, 2]), 1)));
      ppl.sample('s', new HalfNormal(2));
    };
    const draws: Record<string, number[]> = {};
    for (const cm of ['sequential', 'vectorized', 'parallel'] as const) {
      const mcmc = new ppl.MCMC(new ppl.NUTS(m), {
        numSamples: 50,
        warmupSteps: 50,
        numChains: 2,
        chainMethod: cm,
        progressBar: false,
        seed: 3,
      });
      await mcmc.run();
      const before = tf.memory().numTensors;
      const flat = mcmc.getSamples();
      const grouped = mcmc.getSamples({ groupByChain: true });
      expect(flat.x!.shape).toEqual([100, 3]);
      expect(flat.s!.shape).toEqual([100]);
      expect(grouped.x!.shape).toEqual([2, 50, 3]);
      expect(grouped.s!.shape).toEqual([2, 50]);
      expect(Array.from(grouped.x!.dataSync())).toEqual(Array.from(flat.x!.dataSync()));
      draws[cm] = Array.from(flat.s!.dataSync());
      expect(mcmc.getExtraFields()).toHaveLength(2);
      const sm = mcmc.summary();
      expect(sm.x!.elements).toHaveLength(3);
      tf.dispose([...Object.values(flat), ...Object.values(grouped)]);
      expect(tf.memory().numTensors).toBe(before);
      // the two chains differ
      const s = draws[cm]!;
      expect(s.slice(0, 50)).not.toEqual(s.slice(50));
    }
    expect(draws.vectorized).toEqual(draws.sequential);
    expect(draws.parallel).toEqual(draws.sequential);
  });

  it('the same seed gives the same draws; another seed other draws; setSeed drives unseeded runs', async () => {
    const go = async (seed?: number): Promise<number[]> => {
      const o: ppl.MCMCOptions = { numSamples: 30, warmupSteps: 30, progressBar: false };
      if (seed !== undefined) o.seed = seed;
      const mcmc = new ppl.MCMC(new ppl.NUTS(model), o);
      await mcmc.run();
      const { x } = mcmc.getSamples();
      const v = Array.from(x!.dataSync());
      x!.dispose();
      return v;
    };
    expect(await go(7)).toEqual(await go(7));
    expect(await go(7)).not.toEqual(await go(8));
    setSeed(123);
    const a = await go();
    setSeed(123);
    const b = await go();
    expect(a).toEqual(b);
  });

  it('deterministic sites are stored with the latents', async () => {
    const m = (): void => {
      const x = ppl.sample('x', new Normal(0, 1));
      ppl.deterministic('x2', tf.square(x));
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(m), {
      numSamples: 40,
      warmupSteps: 20,
      progressBar: false,
      seed: 1,
    });
    await mcmc.run();
    const { x, x2 } = mcmc.getSamples();
    const xv = x!.dataSync();
    const x2v = x2!.dataSync();
    xv.forEach((v, i) => expect(x2v[i]).toBeCloseTo(v * v, 5));
    tf.dispose([x!, x2!]);
    expect(Object.keys(mcmc.summary()).sort()).toEqual(['x', 'x2']);
  });

  it('a constant deterministic site: summary gives mean 3, sd 0 and no throw', async () => {
    const m = (): void => {
      ppl.sample('x', new Normal(0, 1));
      ppl.deterministic('c', tf.scalar(3));
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(m), {
      numSamples: 20,
      warmupSteps: 10,
      progressBar: false,
      seed: 1,
    });
    await mcmc.run();
    const c = mcmc.summary().c!.elements[0]!;
    expect(c.mean).toBe(3);
    expect(c.sd).toBe(0);
    expect(c.median).toBe(3);
    expect(mcmc.printSummary()).toMatch(/\bc\b/);
  });

  it('numSamples 1 and warmupSteps 0 run; summary of 1 draw gives NaN diagnostics, not a throw', async () => {
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 1,
      warmupSteps: 0,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run();
    const { x } = mcmc.getSamples();
    expect(x!.shape).toEqual([1]);
    x!.dispose();
    const s = mcmc.summary().x!.elements[0]!;
    expect(Number.isFinite(s.mean)).toBe(true);
    expect(Number.isNaN(s.rHat)).toBe(true);
    expect(typeof mcmc.printSummary()).toBe('string');
  });

  it('an inverseMassMatrix of the wrong length is refused naming it when the chain starts', async () => {
    const m = (): void => {
      ppl.sample('u', new Normal(tf.tensor1d([0, 0]), 1).toEvent(1));
    };
    for (const [imm, full] of [
      [[1, 1, 1], false],
      [[1, 1, 1, 1], false],
      [[1], true],
    ] as const) {
      const mcmc = new ppl.MCMC(new ppl.NUTS(m, { inverseMassMatrix: [...imm], fullMass: full }), {
        numSamples: 5,
        warmupSteps: 5,
        progressBar: false,
      });
      await argErrAsync(() => mcmc.run(), /inverseMassMatrix.*2 unconstrained/);
    }
    // a right one is used as the start metric (no adaptation): draws move
    const mcmc = new ppl.MCMC(
      new ppl.NUTS(m, {
        inverseMassMatrix: [2, 0.5, 0.5, 1],
        fullMass: true,
        adaptMassMatrix: false,
      }),
      { numSamples: 20, warmupSteps: 10, progressBar: false, seed: 1 },
    );
    await mcmc.run();
    expect(Array.from(mcmc.lastState!.chains[0]!.inverseMass)).toEqual([2, 0.5, 0.5, 1]);
  });

  it('initToValue starts the chain at the value (no warmup, tiny fixed step)', async () => {
    const m = (): void => {
      ppl.sample('s', new HalfNormal(1));
      ppl.sample('u', new Normal(tf.tensor1d([0, 0]), 1).toEvent(1));
    };
    const kernel = new ppl.HMC(m, {
      stepSize: 1e-5,
      numSteps: 1,
      adaptStepSize: false,
      adaptMassMatrix: false,
      initStrategy: ppl.initToValue({ s: 2.5, u: tf.tensor1d([-3, 4]) }),
    });
    const mcmc = new ppl.MCMC(kernel, {
      numSamples: 1,
      warmupSteps: 0,
      progressBar: false,
      seed: 4,
    });
    await mcmc.run();
    const { s, u } = mcmc.getSamples();
    expect(s!.dataSync()[0]).toBeCloseTo(2.5, 3);
    expect(Array.from(u!.dataSync())).toBeAllclose([-3, 4], { atol: 1e-3 });
    tf.dispose([s!, u!]);
  });
});

describe('audit14: failures during sampling, checkpoint options, progress reporter', () => {
  it('a model that throws mid-sampling (tfjs potential): its error, no tensor left', async () => {
    let calls = 0;
    const m = (): void => {
      const x = ppl.sample('x', new Normal(0, 1));
      if (++calls > 60) throw new Error('model failed at call 61');
      ppl.factor('f', tf.mul(-0.1, tf.square(x)));
    };
    const before = tf.memory().numTensors;
    const mcmc = new ppl.MCMC(new ppl.NUTS(m, { compile: false }), {
      numSamples: 50,
      warmupSteps: 50,
      progressBar: false,
      seed: 1,
    });
    await expect(mcmc.run()).rejects.toThrow(/call 61/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each([
    [{ path: '' }, /path/],
    [{ path: 'x', every: 0 }, /every/],
    [{ path: 'x', every: 2.5 }, /every/],
    [{ path: 'x', resume: 'yes' }, /resume/],
    [{ path: 'x', evry: 3 }, /evry/],
  ])('checkpoint %o is refused naming the field', (ck, re) => {
    argErr(
      () =>
        new ppl.MCMC(new ppl.NUTS(model), {
          numSamples: 5,
          checkpoint: ck as unknown as ppl.MCMCCheckpointOptions,
        }),
      re,
    );
  });

  it('a progress reporter gets start/update/stop per chain with step size, depth, divergences', async () => {
    const starts: [string, number][] = [];
    const infos: { phase: string; stepSize: number; treeDepth: number; divergences: number }[] = [];
    let stops = 0;
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 10,
      warmupSteps: 10,
      numChains: 2,
      seed: 1,
      progressBar: {
        start: (l, t) => starts.push([l, t]),
        update: (_, info) => infos.push(info),
        stop: () => stops++,
      },
    });
    await mcmc.run();
    expect(starts).toHaveLength(2);
    expect(starts[0]![1]).toBe(20);
    expect(stops).toBe(2);
    expect(infos.length).toBeGreaterThan(0);
    for (const i of infos) {
      expect(i.stepSize).toBeGreaterThan(0);
      expect(i.treeDepth).toBeGreaterThanOrEqual(0);
      expect(i.divergences).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('audit14: observed data the model cannot use', () => {
  const m = (y: unknown): void => {
    const mu = ppl.sample('mu', new Normal(0, 10));
    ppl.plate('d', 3, () => ppl.sample('y', new Normal(mu, 1), { obs: y as tf.Tensor }));
  };
  const run = async (y: unknown): Promise<void> => {
    const mcmc = new ppl.MCMC(new ppl.NUTS(m), {
      numSamples: 5,
      warmupSteps: 5,
      progressBar: false,
    });
    await mcmc.run(y);
  };
  it('a disposed data tensor: ArgumentError naming obs and the site (was tfjs "Tensor is disposed")', async () => {
    const y = tf.tensor1d([1, 2, 3]);
    y.dispose();
    const before = tf.memory().numTensors;
    await argErrAsync(() => run(y), /obs.*sample\('y'\).*disposed/);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('data tfjs cannot read, NaN, or of the wrong shape: ArgumentErrors naming the site', async () => {
    await argErrAsync(() => run({ a: 1 }), /obs.*sample\('y'\)/);
    await argErrAsync(() => run(['a', 'b', 'c']), /'y'/);
    const yn = tf.tensor1d([1, NaN, 3]);
    await argErrAsync(() => run(yn), /'y'/);
    const y4 = tf.tensor1d([1, 2, 3, 4]);
    await argErrAsync(() => run(y4), /'y'/);
    tf.dispose([yn, y4]);
  });
});
