/**
 * Fresh-eyes audit (round 16): edges a Pyro user meets with the primitives and handlers —
 * auxiliary guide sites, model/guide mismatches named by site, duplicate site names, obs shapes
 * inside plates, handler option typos, nested seeds, replay of partial traces, substitute by
 * function, `Predictive` shapes, deterministic sites inside plates, `lift` record errors.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectNoLeak } from '../helpers.js';

const num = (t: tf.Tensor): number => t.dataSync()[0] as number;
const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const Y = [0.4, 1.1, -0.2];
const model = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 1));
  ppl.plate('data', 3, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
};

describe('guides: auxiliary sites and mismatches', () => {
  it('an auxiliary guide site (infer.isAuxiliary) is allowed; the ELBO equals the direct guide`s', () => {
    const y = tf.tensor1d(Y);
    const direct = (): void => {
      ppl.sample('mu', new D.Normal(0.3, 0.5));
    };
    const aux = (): void => {
      const u = ppl.sample('u', new D.Normal(0.3, 0.5), { infer: { isAuxiliary: true } });
      ppl.sample('mu', new ppl.Delta(u));
    };
    const elbo = new ppl.TraceELBO();
    const before = tf.memory().numTensors;
    const a = elbo.loss(model, ppl.seed(direct, 5), y);
    const b = elbo.loss(model, ppl.seed(aux, 5), y);
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(a)).toBe(true);
    expect(b).toBeCloseTo(a, 4);
    y.dispose();
  });
  it('a model latent missing from the guide, or a guide site absent from the model, names it', () => {
    const y = tf.tensor1d(Y);
    const empty = (): void => undefined;
    const extra = (): void => {
      ppl.sample('mu', new D.Normal(0, 1));
      ppl.sample('sigma_extra', new D.Normal(0, 1));
    };
    const elbo = new ppl.TraceELBO();
    const svi1 = new ppl.SVI(model, empty, tf.train.adam(0.01), elbo);
    expect(() => svi1.step(y)).toThrow(/mu/);
    const svi2 = new ppl.SVI(model, extra, tf.train.adam(0.01), elbo);
    expect(() => svi2.step(y)).toThrow(/sigma_extra/);
    y.dispose();
  });
});

describe('site names, shapes and handler options', () => {
  it('two sites with the same name in one run are an ArgumentError naming the site', () => {
    const dup = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
      ppl.sample('a', new D.Normal(0, 1));
    };
    expect(() => ppl.trace(dup).getTrace()).toThrow(ArgumentError);
    expect(() => ppl.trace(dup).getTrace()).toThrow(/'a'/);
  });
  it('obs of a shape that does not fit its plate is an ArgumentError naming the site', () => {
    const y4 = tf.tensor1d([1, 2, 3, 4]);
    const bad = (): void => {
      ppl.plate('data', 3, () => ppl.sample('yobs', new D.Normal(0, 1), { obs: y4 }));
    };
    expect(() => ppl.trace(bad).getTrace()).toThrow(ArgumentError);
    expect(() => ppl.trace(bad).getTrace()).toThrow(/yobs/);
    y4.dispose();
  });
  it('a mask that does not broadcast to the site names the site', () => {
    const m = tf.tensor1d([true, false], 'bool');
    const f = (): void => {
      ppl.plate('p', 3, () => ppl.sample('zz', new D.Normal(0, 1)));
    };
    expect(() => {
      const tr = ppl.trace(ppl.mask(f, m)).getTrace();
      try {
        tr.logProbSum().dispose();
      } finally {
        tr.dispose();
      }
    }).toThrow(/zz/);
    m.dispose();
  });
  it('unknown option keys of block, trace-free handlers and sample are refused by name', () => {
    const f = (): void => undefined;
    expect(() => ppl.block(f, { hide_types: ['param'] } as unknown as ppl.BlockOptions)).toThrow(
      /hide_types/,
    );
    expect(() =>
      ppl.sample('x', new D.Normal(0, 1), { observed: 1 } as unknown as ppl.SampleOptions),
    ).toThrow(/observed/);
  });
  it('replay of a trace missing a site draws that site afresh, as Pyro', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const partial = ppl.trace(() => ppl.sample('other', new D.Normal(0, 1))).getTrace();
      const tr = ppl.trace(ppl.replay(model, partial)).getTrace(y);
      expect(tr.get('mu')?.isObserved).toBe(false);
      expect(tr.value('mu').shape).toEqual([]);
      expect(tr.has('other')).toBe(false);
      tr.dispose();
      partial.dispose();
      y.dispose();
    });
  });
  it('an inner seed wins over an outer one for the sites it sees', () => {
    const f = (): number => tf.tidy(() => num(ppl.sample('a', new D.Normal(0, 1))));
    const inner = ppl.seed(f, 1)();
    expect(ppl.seed(ppl.seed(f, 1), 2)()).toBe(inner);
    expect(ppl.seed(f, 2)()).not.toBe(inner);
  });
  it('substitute by a function sets the sites it returns a value for, leaves the others', () => {
    expectNoLeak(() => {
      const y = tf.tensor1d(Y);
      const tr = ppl
        .trace(ppl.substitute(model, (msg) => (msg.name === 'mu' ? tf.scalar(0.9) : null)))
        .getTrace(y);
      expect(num(tr.value('mu'))).toBeCloseTo(0.9, 6);
      expect(arr(tr.value('y'))).toEqual(Y.map((v) => Math.fround(v)));
      tr.dispose();
      y.dispose();
    });
  });
  it('deterministic inside a plate records the plate-shaped value, log-density 0', () => {
    expectNoLeak(() => {
      const f = (): void => {
        ppl.plate('p', 4, () => {
          const z = ppl.sample('z', new D.Normal(0, 1));
          ppl.deterministic('z2', tf.square(z));
        });
      };
      const tr = ppl.trace(f).getTrace();
      const z = arr(tr.value('z'));
      expect(arr(tr.value('z2'))).toEqual(z.map((v) => expect.closeTo(v * v, 5)));
      const lp = tr.computeLogProb().get('z2') as tf.Tensor;
      expect(arr(lp).every((v) => v === 0)).toBe(true);
      tr.dispose();
    });
  });
  it('lift with a record naming no param of the run is an ArgumentError naming it', () => {
    const g = (): void => {
      ppl.param('w', 0.5);
    };
    expect(() => tf.tidy(() => ppl.lift(g, { nope: new D.Normal(0, 1) })())).toThrow(/nope/);
  });
});

describe('Predictive', () => {
  it('prior predictive: [S, ...site shape] for latent, observed and deterministic sites', () => {
    expectNoLeak(() => {
      const m = (): void => {
        const mu = ppl.sample('mu', new D.Normal(0, 1));
        ppl.plate('data', 3, () => {
          ppl.sample('y', new D.Normal(mu, 1));
          ppl.deterministic('d', tf.add(mu, tf.zeros([3])));
        });
      };
      const out = new ppl.Predictive(m, { numSamples: 7 }).call();
      expect(out.mu?.shape).toEqual([7]);
      expect(out.y?.shape).toEqual([7, 3]);
      expect(out.d?.shape).toEqual([7, 3]);
      // d is mu broadcast: each row constant
      const d = arr(out.d as tf.Tensor);
      const mu = arr(out.mu as tf.Tensor);
      for (let s = 0; s < 7; s++)
        for (let j = 0; j < 3; j++) expect(d[3 * s + j]).toBeCloseTo(mu[s] as number, 6);
      tf.dispose(Object.values(out));
    });
  });
  it('posteriorSamples fix the latents; y is drawn around them', () => {
    expectNoLeak(() => {
      const mu = tf.tensor1d([100, -100]);
      const out = new ppl.Predictive(model, { posteriorSamples: { mu }, returnSites: ['y'] }).call(
        null as unknown as tf.Tensor,
      );
      const y = arr(out.y as tf.Tensor);
      expect(out.y?.shape).toEqual([2, 3]);
      expect(y.slice(0, 3).every((v) => v > 90)).toBe(true);
      expect(y.slice(3).every((v) => v < -90)).toBe(true);
      tf.dispose([mu, ...Object.values(out)]);
    });
  });
});

describe('enumeration and event dims, refused or kept by site', () => {
  it('a continuous site marked for parallel enumeration is an ArgumentError naming it', () => {
    const m = (): void => {
      ppl.sample('cont_site', new D.Normal(0, 1), { infer: { enumerate: 'parallel' } });
    };
    expect(() => new ppl.TraceEnumELBO({ maxPlateNesting: 0 }).loss(m, () => undefined)).toThrow(
      /cont_site/,
    );
  });
  it('deterministic with eventDim 1 inside a plate keeps the [n, k] value, log-density [n]', () => {
    expectNoLeak(() => {
      const f = (): void => {
        ppl.plate('p', 3, () => {
          const z = ppl.sample('z', new D.Normal(tf.zeros([3, 2]), 1).toEvent(1));
          ppl.deterministic('zc', tf.cumsum(z, -1), 1);
        });
      };
      const tr = ppl.trace(f).getTrace();
      expect(tr.value('zc').shape).toEqual([3, 2]);
      expect(tr.computeLogProb().get('zc')?.shape).toEqual([3]);
      tr.dispose();
    });
  });
});
