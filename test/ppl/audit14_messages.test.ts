/**
 * Audit (issue 14): errors name the site. A latent site missing from the guide, a guide site
 * absent from the model, a guide draw of the wrong shape or outside the model's support, a
 * discrete latent under a continuous autoguide, a LocScaleReparam on a site that is not
 * location-scale, a TransformReparam on a plain site, a factor of a bad log-weight, bad options
 * of SVI / autoguides / Predictive: each an ArgumentError (or a clear Error) naming the
 * site or argument before any work, with no tensor leaked.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectBadInput } from '../helpers.js';

afterEach(() => ppl.clearParamStore());

const y = [0.3, 1.1, -0.4];

function model(): void {
  const mu = ppl.sample('mu', new D.Normal(0, 1));
  const sigma = ppl.sample('sigma', new D.HalfNormal(1));
  ppl.plate('data', 3, () => ppl.sample('y', new D.Normal(mu, sigma), { obs: tf.tensor1d(y) }));
}

/** One SVI step (params created first), then a second: the second must throw naming `site`. */
function expectStepNamesSite(m: () => void, g: () => void, site: string, msg?: RegExp): void {
  const opt = tf.train.sgd(0.01);
  const svi = new ppl.SVI(m, g, opt, new ppl.TraceELBO());
  let err: unknown;
  try {
    svi.step();
  } catch (e) {
    err = e;
  }
  expect(err, 'no error').toBeInstanceOf(Error);
  expect((err as Error).message).toContain(`'${site}'`);
  if (msg) expect((err as Error).message).toMatch(msg);
  const before = tf.memory().numTensors;
  expect(() => svi.step()).toThrow();
  expect(tf.memory().numTensors, 'a throwing step leaked').toBe(before);
  expect(ppl.HANDLER_STACK.length).toBe(0);
  opt.dispose();
}

describe('audit14: model/guide mismatches name the site', () => {
  it('a latent site missing from the guide', () => {
    expectStepNamesSite(
      model,
      () => {
        ppl.sample('mu', new D.Normal(ppl.param('m', 0), 1));
      },
      'sigma',
    );
  });

  it('a guide site absent from the model', () => {
    expectStepNamesSite(
      model,
      () => {
        ppl.sample('mu', new D.Normal(ppl.param('m', 0), 1));
        ppl.sample('sigma', new D.LogNormal(0, 1));
        ppl.sample('ghost', new D.Normal(0, 1));
      },
      'ghost',
    );
  });

  it('a guide draw outside the model site support (Normal guide for a HalfNormal)', () => {
    const m2 = (): void => {
      ppl.sample('sigma', new D.HalfNormal(1));
    };
    const g2 = (): void => {
      ppl.sample('sigma', new D.Normal(-5, 0.1)); // always negative
    };
    expectStepNamesSite(m2, g2, 'sigma', /support/);
  });

  it('a guide draw whose shape does not broadcast with the model site', () => {
    const m2 = (): void => {
      ppl.plate('J', 4, () => ppl.sample('theta', new D.Normal(0, 1)));
    };
    const g2 = (): void => {
      ppl.sample('theta', new D.Normal(tf.zeros([3]), 1));
    };
    expectStepNamesSite(m2, g2, 'theta');
  });
});

describe('audit14: autoguides refuse what they cannot fit, naming the site', () => {
  const discrete = (): void => {
    ppl.sample('mu', new D.Normal(0, 1));
    ppl.sample('k', new D.Poisson(3));
  };
  for (const [name, make] of [
    ['AutoNormal', (m: () => void) => new ppl.AutoNormal(m)],
    ['AutoDiagonalNormal', (m: () => void) => new ppl.AutoDiagonalNormal(m)],
    ['AutoMultivariateNormal', (m: () => void) => new ppl.AutoMultivariateNormal(m)],
    ['AutoDelta', (m: () => void) => new ppl.AutoDelta(m)],
  ] as const) {
    it(`${name} on a model with a discrete latent 'k'`, () => {
      const before = tf.memory().numTensors;
      const guide = make(discrete);
      let err: unknown;
      try {
        guide.call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain("'k'");
      guide.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('AutoLowRankMultivariateNormal with rank 0 / 1.5 / a string is refused naming rank', async () => {
    for (const rank of [0, 1.5, 'two']) {
      await expectBadInput({
        call: `rank ${String(rank)}`,
        run: () => new ppl.AutoLowRankMultivariateNormal(model, { rank: rank as number }),
        arg: 'rank',
      });
    }
  });

  it('an unknown autoguide option is refused', async () => {
    await expectBadInput({
      call: 'AutoNormal({initScale2})',
      run: () => new ppl.AutoNormal(model, { initScale2: 0.1 } as never),
      arg: /initScale2|options/,
    });
  });

  it('AutoNormal initScale <= 0 is refused', async () => {
    await expectBadInput({
      call: 'initScale -1',
      run: () => new ppl.AutoNormal(model, { initScale: -1 }),
      arg: 'initScale',
    });
  });

  it('quantiles outside (0, 1) are refused naming the argument', async () => {
    const guide = new ppl.AutoNormal(model);
    const opt = tf.train.sgd(0.001);
    new ppl.SVI(model, guide, opt, new ppl.TraceELBO()).step();
    for (const q of [[0], [1], [1.5], [Number.NaN], []]) {
      await expectBadInput({
        call: `quantiles(${String(q)})`,
        run: () => guide.quantiles(q),
        arg: /q/,
      });
    }
    guide.dispose();
    opt.dispose();
  });
});

describe('audit14: reparam and factor messages name the site', () => {
  it('LocScaleReparam on a Gamma site (not location-scale)', () => {
    const m = (): void => {
      ppl.sample('g', new D.Gamma(2, 1));
    };
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      ppl
        .trace(ppl.reparam(m, { g: new ppl.LocScaleReparam(0) }))
        .getTrace()
        .dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('g');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('TransformReparam on a plain Normal site', () => {
    const m = (): void => {
      ppl.sample('x', new D.Normal(0, 1));
    };
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      ppl
        .trace(ppl.reparam(m, { x: new ppl.TransformReparam() }))
        .getTrace()
        .dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('x');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('LocScaleReparam(centered) outside [0, 1] is refused', async () => {
    await expectBadInput({
      call: 'centered 1.5',
      run: () => new ppl.LocScaleReparam(1.5),
      arg: 'centered',
    });
    await expectBadInput({
      call: 'centered -0.1',
      run: () => new ppl.LocScaleReparam(-0.1),
      arg: 'centered',
    });
  });

  it('factor with a NaN, a string or a non-broadcasting log-weight names the factor', async () => {
    const run =
      (lw: unknown, inPlate = false) =>
      () =>
        ppl
          .trace(() =>
            inPlate
              ? ppl.plate('p', 3, () => ppl.factor('f', lw as tf.Tensor))
              : ppl.factor('f', lw as tf.Tensor),
          )
          .getTrace()
          .dispose();
    await expectBadInput({ call: 'factor("x")', run: run('x'), arg: /logWeight|f/ });
    await expectBadInput({
      call: 'factor in plate 3 with 4 weights',
      run: run(tf.zeros([4]), true),
      arg: /f|logWeight/,
    });
  });

  it('a NaN factor shows up as a NaN/clear error, not a silent finite loss', () => {
    const m = (): void => ppl.factor('f', Number.NaN);
    let loss: number | undefined;
    let err: unknown;
    try {
      loss = new ppl.TraceELBO().loss(m, () => undefined);
    } catch (e) {
      err = e;
    }
    if (err === undefined) expect(Number.isNaN(loss)).toBe(true);
    else expect((err as Error).message).toMatch(/'f'|logWeight|NaN/);
  });
});

describe('audit14: Predictive and SVI bad options', () => {
  const cases = [
    {
      call: 'Predictive numSamples 0',
      run: () => new ppl.Predictive(model, { numSamples: 0 }),
      arg: 'numSamples',
    },
    {
      call: 'Predictive numSamples 2.5',
      run: () => new ppl.Predictive(model, { numSamples: 2.5 }),
      arg: 'numSamples',
    },
    {
      call: 'Predictive unknown option',
      run: () => new ppl.Predictive(model, { samples: 3 } as never),
      arg: /samples|options/,
    },
    {
      call: 'Predictive model not a function',
      run: () => new ppl.Predictive(42 as never),
      arg: 'model',
    },
    {
      call: 'Predictive returnSites not an array',
      run: () => new ppl.Predictive(model, { returnSites: 'y' as never }),
      arg: 'returnSites',
    },
    {
      call: 'SVI without an optimizer',
      run: () => new ppl.SVI(model, () => undefined, null as never, new ppl.TraceELBO()),
      arg: /optim/,
    },
    {
      call: 'TraceELBO numParticles 0',
      run: () => new ppl.TraceELBO({ numParticles: 0 }),
      arg: 'numParticles',
    },
    { call: 'RenyiELBO alpha 1', run: () => new ppl.RenyiELBO({ alpha: 1 }), arg: 'alpha' },
  ];
  for (const c of cases) it(c.call, () => expectBadInput(c));

  it('Predictive returnSites naming a site the model does not have names it', () => {
    const before = tf.memory().numTensors;
    const pred = new ppl.Predictive(model, { numSamples: 2, returnSites: ['nope'] });
    let err: unknown;
    let out: Record<string, tf.Tensor> | undefined;
    try {
      out = pred.call();
    } catch (e) {
      err = e;
    }
    if (out) tf.dispose(Object.values(out));
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('nope');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('audit14: trace of a guide object (Pyro: poutine.trace(guide).get_trace())', () => {
  it('trace(guide).getTrace(...args) records the autoguide sites; a non-callable is refused', async () => {
    const m = (obs: tf.Tensor): void => {
      const s = ppl.sample('s', new D.Gamma(2, 1));
      ppl.plate('d', 3, () => ppl.sample('y', new D.Normal(0, s), { obs }));
    };
    const obs = tf.tensor1d(y);
    const guide = new ppl.AutoNormal(m);
    const before = tf.memory().numTensors;
    const tr = ppl.trace(guide).getTrace(obs);
    expect(tr.value('s').shape).toEqual([]);
    expect(tr.value('s').dataSync()[0]).toBeGreaterThan(0);
    tr.dispose();
    const med = guide.median();
    expect(med.s!.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose(Object.values(med));
    guide.dispose();
    ppl.clearParamStore();
    expect(tf.memory().numTensors).toBe(before);
    obs.dispose();
    await expectBadInput({ call: 'trace(42)', run: () => ppl.trace(42 as never), arg: 'fn' });
    await expectBadInput({ call: 'trace(null)', run: () => ppl.trace(null as never), arg: 'fn' });
  });
});
