/**
 * Audit (issue 14): every continuous family of the sweep table as a LATENT site under the five
 * autoguides Pyro users reach for first (AutoNormal, AutoDelta, AutoDiagonalNormal,
 * AutoMultivariateNormal, AutoLowRankMultivariateNormal). A few SVI steps must give finite losses,
 * guide draws inside the family's support, `median()` and `quantiles()` inside the support, and
 * `Predictive` draws of shape `[numSamples, ...siteShape]`; no tensor may leak.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, expect, it } from 'vitest';
import { ArgumentError } from '../../src/utils/errors.js';
import { distributions as D, ppl } from '../../src/index.js';
import type { Distribution } from '../../src/distributions/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { SWEEP, freeMade } from '../distributions/sweep_cases.js';

/** Reset the store, the seed and the sweep's made tensors after each test. */
export function resetAfterEach(): void {
  afterEach(() => {
    ppl.clearParamStore();
    clearSeed();
    freeMade();
  });
}

type Guide = ppl.AutoGuide<[]>;
const GUIDES: [string, (m: () => void) => Guide][] = [
  ['AutoNormal', (m) => new ppl.AutoNormal(m)],
  ['AutoDelta', (m) => new ppl.AutoDelta(m)],
  ['AutoDiagonalNormal', (m) => new ppl.AutoDiagonalNormal(m)],
  ['AutoMultivariateNormal', (m) => new ppl.AutoMultivariateNormal(m)],
  ['AutoLowRankMultivariateNormal', (m) => new ppl.AutoLowRankMultivariateNormal(m, { rank: 1 })],
];

/** Rows usable as a latent of an autoguide (continuous, a bijection onto their support). */
const ROWS = SWEEP.filter((r) => r.continuous && !/Empirical|Stable|ProjectedNormal/.test(r.name));

/** Whether every entry of `x` (events of `d`) lies in `d`'s support. */
function inSupport(d: Distribution, x: tf.Tensor): boolean {
  return d.support.checkAll(x);
}

/** The sweep over `ROWS` for the guides `which` (two files share it to stay fast). */
export function sweepGuides(which: string[]): void {
  for (const row of ROWS) {
    for (const [gname, makeGuide] of GUIDES.filter(([g]) => which.includes(g))) {
      it(`${row.name} under ${gname}`, () => {
        setSeed(7);
        const batch = row.scalarOnly !== undefined ? [] : [2];
        const proto = row.make(batch);
        const siteShape = [...proto.batchShape, ...proto.eventShape];
        const before = tf.memory().numTensors;
        const model = (): void => {
          ppl.sample('z', row.make(batch));
        };
        const guide = makeGuide(model);
        const opt = tf.train.adam(0.01);
        const svi = new ppl.SVI(model, guide, opt, new ppl.TraceELBO());
        const losses: number[] = [];
        for (let i = 0; i < 3; i++) losses.push(svi.step());
        losses.forEach((l) => expect(Number.isFinite(l), `loss ${l}`).toBe(true));
        // guide draws lie in the support, with the site's shape
        const tr = ppl.trace(() => guide.call()).getTrace();
        const z = tr.value('z');
        expect(z.shape).toEqual(siteShape);
        expect(inSupport(proto, z), `guide draw ${z.toString()}`).toBe(true);
        tr.dispose();
        // median and quantiles lie in the support
        const med = guide.median();
        expect(med.z!.shape).toEqual(siteShape);
        expect(inSupport(proto, med.z!), `median ${med.z!.toString()}`).toBe(true);
        tf.dispose(Object.values(med));
        if (gname !== 'AutoDelta') {
          const q = guide.quantiles([0.1, 0.5, 0.9]);
          expect(q.z!.shape).toEqual([3, ...siteShape]);
          for (const qi of tf.unstack(q.z!)) {
            expect(inSupport(proto, qi), `quantile ${qi.toString()}`).toBe(true);
            qi.dispose();
          }
          tf.dispose(Object.values(q));
        }
        // Predictive over the guide
        const pred = new ppl.Predictive(model, { guide, numSamples: 3, returnSites: ['z'] });
        const out = pred.call();
        expect(out.z!.shape).toEqual([3, ...siteShape]);
        for (const zi of tf.unstack(out.z!)) {
          expect(inSupport(proto, zi)).toBe(true);
          zi.dispose();
        }
        tf.dispose(Object.values(out));
        guide.dispose();
        opt.dispose();
        ppl.clearParamStore();
        expect(tf.memory().numTensors).toBe(before);
        proto.dispose();
      });
    }
  }
  for (const [gname, makeGuide] of GUIDES.filter(([g]) => which.includes(g))) {
    it(`ProjectedNormal (a sphere: no bijection) under ${gname}: an ArgumentError naming the site`, () => {
      const before = tf.memory().numTensors;
      const model = (): void => {
        ppl.sample('dir', new D.ProjectedNormal([0.5, 1, -0.3]));
      };
      const guide = makeGuide(model);
      let err: unknown;
      try {
        guide.call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toBe('dir');
      expect((err as Error).message).toMatch(/sphere/);
      guide.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
}

/**
 * Every row drawn inside a plate of 3 (its scalar-batch version broadcast by the plate) under the
 * guides `which`: finite losses, draws of shape `[3, ...event]` inside the support, medians of that
 * shape inside the support.
 */
export function sweepInPlate(which: string[]): void {
  for (const row of ROWS) {
    for (const [gname, makeGuide] of GUIDES.filter(([g]) => which.includes(g))) {
      it(`${row.name} in a plate of 3 under ${gname}`, () => {
        setSeed(11);
        const proto = row.make([]);
        const siteShape = [3, ...proto.eventShape];
        const before = tf.memory().numTensors;
        const model = (): void => {
          ppl.plate('N', 3, { dim: -1 - proto.batchShape.length }, () =>
            ppl.sample('z', row.make([])),
          );
        };
        const guide = makeGuide(model);
        const opt = tf.train.adam(0.01);
        const svi = new ppl.SVI(model, guide, opt, new ppl.TraceELBO());
        for (let i = 0; i < 2; i++) expect(Number.isFinite(svi.step())).toBe(true);
        const tr = ppl.trace(() => guide.call()).getTrace();
        const z = tr.value('z');
        expect(z.shape.slice(z.rank - siteShape.length)).toEqual(siteShape);
        expect(inSupport(proto, z)).toBe(true);
        tr.dispose();
        const med = guide.median();
        expect(inSupport(proto, med.z!)).toBe(true);
        tf.dispose(Object.values(med));
        guide.dispose();
        opt.dispose();
        ppl.clearParamStore();
        expect(tf.memory().numTensors).toBe(before);
        proto.dispose();
      });
    }
  }
}
