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

describe('reparam through mask, expand and toEvent wrappers', () => {
  const lpN = (x: number, m: number, s: number): number => normalRef.logpdf(x, m, s);

  it('LocScaleReparam(0) of a masked site: the log joint is the hand-non-centred model, masked-out entries add nothing', () => {
    setSeed(3);
    const keep = [true, false, true, false];
    const m = tf.tensor1d(keep, 'bool');
    const centred = (): void => {
      const mu = ppl.sample('mu', new D.Normal(1, 2));
      ppl.plate('N', 4, () => ppl.sample('x', new D.Normal(mu, 2).mask(m)));
    };
    const hand = (): void => {
      const mu = ppl.sample('mu', new D.Normal(1, 2));
      ppl.plate('N', 4, () => {
        const e = ppl.sample('x_decentered', new D.Normal(0, 1).mask(m));
        ppl.deterministic('x', tf.add(mu, tf.mul(2, e)));
      });
    };
    const tr = ppl.trace(ppl.reparam(centred, { x: new ppl.LocScaleReparam(0) })).getTrace();
    const dec = tr.get('x_decentered')?.fn as D.Distribution;
    expect(dec.batchShape).toEqual([4]);
    const mu = tr.value('mu').dataSync()[0] as number;
    const e = Array.from(tr.value('x_decentered').dataSync());
    expect(tr.value('x')).toBeAllclose(
      e.map((v) => mu + 2 * v),
      { atol: 1e-5 },
    );
    // the masked-out entries of x_decentered have density 0 (not log N(e; 0, 1))
    expect(dec.logProb(tr.value('x_decentered'))).toBeAllclose(
      e.map((v, i) => (keep[i] ? lpN(v, 0, 1) : 0)),
      { atol: 1e-5 },
    );
    const want = lpN(mu, 1, 2) + e.reduce((a, v, i) => a + (keep[i] ? lpN(v, 0, 1) : 0), 0);
    expect(tr.logProbSum().dataSync()[0]).toBeCloseTo(want, 4);
    const th = ppl.trace(ppl.replay(hand, { trace: tr })).getTrace();
    expect(th.logProbSum().dataSync()[0]).toBeCloseTo(want, 4);
    th.dispose();
    tr.dispose();
    m.dispose();
  });

  it('LocScaleReparam(c) keeps expand, mask and toEvent: batch [2], event [3], masked per element', () => {
    setSeed(4);
    const c = 0.3;
    const keep = [
      [true, false, true],
      [false, true, true],
    ];
    const loc = tf.tensor1d([0.5, -1, 2]);
    const fn = new D.Normal(loc, 2).expand([2, 3]).mask(keep).toEvent(1);
    const tr = ppl
      .trace(
        ppl.reparam(
          () => ppl.sample('y', fn),
          () => new ppl.LocScaleReparam(c),
        ),
      )
      .getTrace();
    const dec = tr.get('y_decentered')?.fn as D.Distribution;
    expect([dec.batchShape, dec.eventShape]).toEqual([[2], [3]]);
    expect(tr.get('y')?.fn?.eventShape).toEqual([3]);
    const x = Array.from(tr.value('y_decentered').dataSync());
    const l = [0.5, -1, 2];
    const perRow = [0, 1].map((r) =>
      [0, 1, 2].reduce(
        (a, j) =>
          a + ((keep[r] as boolean[])[j] ? lpN(x[3 * r + j] as number, c * l[j]!, 2 ** c) : 0),
        0,
      ),
    );
    expect(dec.logProb(tr.value('y_decentered'))).toBeAllclose(perRow, { atol: 1e-4 });
    expect(tr.value('y')).toBeAllclose(
      x.map((v, i) => l[i % 3]! + 2 ** (1 - c) * (v - c * l[i % 3]!)),
      { atol: 1e-4 },
    );
    tr.dispose();
    fn.dispose();
    loc.dispose();
  });

  it('TransformReparam of a masked, expanded and of a toEvent site samples the wrapped base', () => {
    setSeed(5);
    const keep = [true, false, true];
    const masked = (): void => {
      ppl.sample(
        'x',
        new D.TransformedDistribution(new D.Normal(0.5, 0.2), new B.Exp()).expand([3]).mask(keep),
      );
    };
    const tr = ppl.trace(ppl.reparam(masked, { x: new ppl.TransformReparam() })).getTrace();
    const base = Array.from(tr.value('x_base').dataSync());
    expect(tr.value('x')).toBeAllclose(base.map(Math.exp), { rtol: 1e-5 });
    expect(tr.logProbSum().dataSync()[0]).toBeCloseTo(
      base.reduce((a, v, i) => a + (keep[i] ? lpN(v, 0.5, 0.2) : 0), 0),
      4,
    );
    tr.dispose();
    const loc = tf.tensor1d([0, 1, 2]);
    const event = (): void => {
      ppl.sample(
        'z',
        new D.TransformedDistribution(new D.Normal(loc, 0.5), new B.Exp()).toEvent(1),
      );
    };
    const te = ppl.trace(ppl.reparam(event, { z: new ppl.TransformReparam() })).getTrace();
    const zb = te.get('z_base')?.fn as D.Distribution;
    expect([zb.batchShape, zb.eventShape]).toEqual([[], [3]]);
    const b = Array.from(te.value('z_base').dataSync());
    expect(te.logProbSum().dataSync()[0]).toBeCloseTo(
      b.reduce((a, v, i) => a + lpN(v, i, 0.5), 0),
      4,
    );
    te.dispose();
    loc.dispose();
  });

  it("a learnable centring has the site's event shape, shared over plates (as Pyro)", () => {
    const inPlate = (): void => {
      ppl.plate('N', 5, () => ppl.sample('t', new D.Normal(tf.zeros([5]), 1)));
    };
    ppl
      .trace(ppl.reparam(inPlate, { t: new ppl.LocScaleReparam() }))
      .getTrace()
      .dispose();
    expect(ppl.getParamStore().value('t_centered').shape).toEqual([]);
    const vec = (): void => {
      ppl.sample('v', new D.Normal(tf.zeros([3]), 1).toEvent(1));
    };
    ppl
      .trace(ppl.reparam(vec, { v: new ppl.LocScaleReparam() }))
      .getTrace()
      .dispose();
    expect(ppl.getParamStore().value('v_centered').shape).toEqual([3]);
  });
});
