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

describe('option objects of the language name an unknown key (no silent default)', () => {
  it("Predictive, the ELBOs, the autoguides and plate refuse Pyro's snake_case names", () => {
    const cases: [() => unknown, RegExp][] = [
      [
        () => new ppl.Predictive(model, { num_samples: 100 } as never),
        /^num_samples: not an option of Predictive \(did you mean numSamples\?\)/,
      ],
      [
        () => new ppl.Predictive(model, { return_sites: ['a'] } as never),
        /did you mean returnSites\?/,
      ],
      [
        () => new ppl.TraceELBO({ num_particles: 8 } as never),
        /^num_particles: not an option of TraceELBO \(did you mean numParticles\?\)/,
      ],
      [
        () => new ppl.TraceMeanFieldELBO({ numParticle: 8 } as never),
        /^numParticle: not an option of TraceMeanFieldELBO/,
      ],
      [
        () => new ppl.TraceEnumELBO({ max_plate_nesting: 1 } as never),
        /did you mean maxPlateNesting/,
      ],
      [
        () => new ppl.RenyiELBO({ num_particles: 2 } as never),
        /^num_particles: not an option of RenyiELBO/,
      ],
      [
        () => new ppl.TraceGraphELBO({ baseline: 0.9 } as never),
        /^baseline: not an option of TraceGraphELBO/,
      ],
      [
        () => new ppl.AutoNormal(model, { init_scale: 0.01 } as never),
        /^init_scale: not an option of AutoNormal \(did you mean initScale\?\)/,
      ],
      [
        () => new ppl.AutoDiagonalNormal(model, { rank: 2 } as never),
        /^rank: not an option of AutoDiagonalNormal/,
      ],
      [
        () => new ppl.AutoIAFNormal(model, { hidden_dims: [4] } as never),
        /did you mean hiddenDims/,
      ],
      [
        () => ppl.plate('d', 10, { subsample_size: 3 } as never, () => undefined),
        /^subsample_size: not an option of plate 'd' \(did you mean subsampleSize\?\)/,
      ],
      [
        () => ppl.plate('d', 10, { subsample: [0, 10] }, () => undefined),
        /^subsample: plate 'd': expected a tensor or an array of integer indices in \[0, 10\)/,
      ],
    ];
    const before = tf.memory().numTensors;
    for (const [f, re] of cases) {
      expect(f).toThrow(ArgumentError);
      expect(f).toThrow(re);
    }
    expect(tf.memory().numTensors).toBe(before);
    // the documented names work
    expect(
      () => new ppl.AutoLowRankMultivariateNormal(model, { rank: 1, initScale: 0.05 }),
    ).not.toThrow();
    expect(() => new ppl.AutoIAFNormal(model, { numTransforms: 1, hiddenDims: [4] })).not.toThrow();
    expect(() => new ppl.TraceELBO({ numParticles: 2, vectorizeParticles: true })).not.toThrow();
    const n = ppl.plate('d', 10, { subsample: [1, 3], dim: -1 }, (i) => i.shape[0]);
    expect(n).toBe(2);
  });
});

describe('param', () => {
  it('refuses a non-numeric initial value naming init (no raw tfjs cast error), leaking nothing', () => {
    const before = tf.memory().numTensors;
    expect(() => ppl.param('s', 'a' as never)).toThrow(/^init: param 's': expected a tensor/);
    expect(() => ppl.param('s', [1, 'b'] as never)).toThrow(/^init: param 's'/);
    expect(() => ppl.param('s', () => tf.tensor(['x']))).toThrow(
      /^init: param 's': expected a numeric value, got string/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(ppl.getParamStore().has('s')).toBe(false);
    // numbers, nested arrays and typed arrays are values
    expect(ppl.param('t', [[1, 2]]).shape).toEqual([1, 2]);
    expect(ppl.param('u', new Float32Array([1, 2, 3])).shape).toEqual([3]);
  });
});
