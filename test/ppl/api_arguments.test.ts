import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, distributions as D, ppl } from '../../src/index.js';

afterEach(() => {
  ppl.clearParamStore();
});

const model = (): void => {
  ppl.sample('a', new D.Normal(0, 1));
};
const guide = (): void => {
  ppl.sample('a', new D.Normal(ppl.param('loc', 0), 1));
};

describe('SVI checks its arguments before any work', () => {
  it('names model, guide, optimizer and loss (no raw TypeError from tfjs)', () => {
    const opt = tf.train.adam(0.1);
    const elbo = new ppl.TraceELBO();
    const cases: [string, () => unknown][] = [
      ['model', () => new ppl.SVI(undefined as never, guide, opt, elbo)],
      ['guide', () => new ppl.SVI(model, undefined as never, opt, elbo)],
      ['guide', () => new ppl.SVI(model, 3 as never, opt, elbo)],
      ['optimizer', () => new ppl.SVI(model, guide, undefined as never, elbo)],
      ['optimizer', () => new ppl.SVI(model, guide, null as never, elbo)],
      ['optimizer', () => new ppl.SVI(model, guide, {} as never, elbo)],
      ['loss', () => new ppl.SVI(model, guide, opt, undefined as never)],
      ['loss', () => new ppl.SVI(model, guide, opt, {} as never)],
    ];
    for (const [name, f] of cases) {
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(new RegExp(`^${name}:`));
    }
    // an autoguide (an object with a call method) is a guide
    expect(() => new ppl.SVI(model, new ppl.AutoNormal(model), opt, elbo)).not.toThrow();
    opt.dispose();
  });
});

describe('Predictive', () => {
  it('checks returnSites and posteriorSamples in the constructor', () => {
    const s = tf.zeros([3]);
    expect(() => new ppl.Predictive(model, { returnSites: 'a' as never })).toThrow(/^returnSites:/);
    expect(() => new ppl.Predictive(model, { returnSites: [''] })).toThrow(/^returnSites:/);
    expect(() => new ppl.Predictive(model, { posteriorSamples: { a: [1, 2] as never } })).toThrow(
      /^posteriorSamples: site 'a'/,
    );
    expect(() => new ppl.Predictive(model, { posteriorSamples: { a: tf.scalar(1) } })).toThrow(
      /^posteriorSamples: site 'a'/,
    );
    expect(() => new ppl.Predictive(undefined as never)).toThrow(ArgumentError);
    s.dispose();
  });

  it('frees the draws it kept when a later site is missing (no leak on a throw)', () => {
    const m = (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', 4, () => ppl.sample('y', new D.Normal(mu, 1)));
    };
    const mu = tf.tensor1d([0.1, 0.2, 0.3]);
    const pred = new ppl.Predictive(m, { posteriorSamples: { mu }, returnSites: ['y', 'nope'] });
    const before = tf.memory().numTensors;
    expect(() => pred.call()).toThrow(/^returnSites: no site named 'nope'/);
    expect(tf.memory().numTensors).toBe(before);
    // and the same predictive without the bad name returns y of shape [3, 4] around each mu
    const ok = new ppl.Predictive(m, { posteriorSamples: { mu }, returnSites: ['y'] }).call();
    expect(ok.y?.shape).toEqual([3, 4]);
    tf.dispose(Object.values(ok));
    expect(tf.memory().numTensors).toBe(before);
    mu.dispose();
  });
});

describe('reparam', () => {
  it("refuses a config entry that is not a reparameterizer (Pyro's config= keyword style)", () => {
    const m = (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 5));
      ppl.sample('theta', new D.Normal(mu, 2));
    };
    // reparam(model, {config: {...}}) would otherwise be accepted and reparameterize nothing
    expect(() =>
      ppl.reparam(m, { config: { theta: new ppl.LocScaleReparam(0) } } as never),
    ).toThrow(/^config: entry 'config' is not a Reparam/);
    expect(() => ppl.reparam(m, { theta: 0 as never })).toThrow(/^config: entry 'theta'/);
    // the right call makes theta a function of the decentred site
    const nc = ppl.reparam(m, { theta: new ppl.LocScaleReparam(0) });
    const tr = ppl.trace(nc).getTrace();
    expect([...tr.nodes.keys()]).toContain('theta_decentered');
    tr.dispose();
  });
});
