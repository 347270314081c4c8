import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { bijectors as B, distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const J = 8;
const model = (): void => {
  const mu = ppl.sample('mu', new D.Normal(1, 2));
  const tau = ppl.sample('tau', new D.HalfNormal(3));
  ppl.plate('J', J, () => ppl.sample('theta', new D.Normal(mu, tau)));
};

describe('reparam', () => {
  it('LocScaleReparam(0) non-centres: theta = mu + tau * theta_decentered, theta_decentered ~ N(0, 1)', () => {
    setSeed(0);
    const nc = ppl.reparam(model, { theta: new ppl.LocScaleReparam(0) });
    const tr = ppl.trace(nc).getTrace();
    const dec = tr.get('theta_decentered');
    const th = tr.get('theta');
    expect(dec?.value?.shape).toEqual([J]);
    expect(dec?.cond.map((f) => f.name)).toEqual(['J']);
    expect(th?.isObserved).toBe(true);
    const [mu, tau] = [
      tr.value('mu').dataSync()[0] as number,
      tr.value('tau').dataSync()[0] as number,
    ];
    const x = Array.from(tr.value('theta_decentered').dataSync());
    expect(tr.value('theta')).toBeAllclose(
      x.map((v) => mu + tau * v),
      { atol: 1e-5 },
    );
    // the joint density: N(mu) + HalfNormal(tau) + N(x; 0, 1), theta contributes 0
    const lp = tr.logProbSum().dataSync()[0] as number;
    const want =
      normalRef.logpdf(mu, 1, 2) +
      Math.log(2) +
      normalRef.logpdf(tau, 0, 3) +
      x.reduce((a, v) => a + normalRef.logpdf(v, 0, 1), 0);
    expect(lp).toBeCloseTo(want, 3);
    tr.dispose();
  });

  it('LocScaleReparam(c) partially centres; with no c a learnable <site>_centered in (0, 1)', () => {
    setSeed(1);
    const c = 0.3;
    const tr = ppl.trace(ppl.reparam(model, { theta: new ppl.LocScaleReparam(c) })).getTrace();
    const mu = tr.value('mu').dataSync()[0] as number;
    const tau = tr.value('tau').dataSync()[0] as number;
    const dec = tr.get('theta_decentered')?.fn as D.Distribution;
    const x = Array.from(tr.value('theta_decentered').dataSync());
    // x_dec ~ N(c mu, tau^c); theta = mu + tau^(1-c) (x_dec - c mu)
    const lq = dec.logProb(tr.value('theta_decentered'));
    expect(lq).toBeAllclose(
      x.map((v) => normalRef.logpdf(v, c * mu, tau ** c)),
      { atol: 1e-4 },
    );
    expect(tr.value('theta')).toBeAllclose(
      x.map((v) => mu + tau ** (1 - c) * (v - c * mu)),
      { atol: 1e-4 },
    );
    lq.dispose();
    tr.dispose();
    const tr2 = ppl.trace(ppl.reparam(model, { theta: new ppl.LocScaleReparam() })).getTrace();
    expect(tr2.paramSites().map((s) => s.name)).toEqual(['theta_centered']);
    expect(ppl.getParamStore().value('theta_centered')).toBeAllclose(0.5);
    tr2.dispose();
  });

  it('TransformReparam samples the base and pushes it through the bijector', () => {
    setSeed(2);
    const m = (): void => {
      ppl.plate('N', 3, () =>
        ppl.sample('x', new D.TransformedDistribution(new D.Normal(0.5, 0.2), new B.Exp())),
      );
    };
    const tr = ppl.trace(ppl.reparam(m, { x: new ppl.TransformReparam() })).getTrace();
    const base = Array.from(tr.value('x_base').dataSync());
    expect(base.length).toBe(3);
    expect(tr.value('x')).toBeAllclose(base.map(Math.exp), { rtol: 1e-5 });
    expect(tr.get('x')?.isObserved).toBe(true);
    tr.dispose();
  });

  it('errors name the site; reparam runs without leaking', () => {
    const bad = (): void => {
      ppl.sample('g', new D.Gamma(2, 1));
    };
    expect(() => ppl.trace(ppl.reparam(bad, { g: new ppl.LocScaleReparam(0) })).getTrace()).toThrow(
      /'g'/,
    );
    expect(() => new ppl.LocScaleReparam(2)).toThrow(/centered/);
    const nc = ppl.reparam(model, { theta: new ppl.LocScaleReparam(0) });
    const guide = new ppl.AutoNormal(nc);
    const svi = new ppl.SVI(nc, guide, tf.train.adam(0.01), new ppl.TraceELBO());
    svi.step();
    expectNoLeak(() => {
      svi.step();
    });
    guide.dispose();
  });
});
