/**
 * Autoguides set up their prototype at the initial point, as Pyro's `_setup_prototype` (the model
 * run under `InitMessenger(init_loc_fn)`): each latent site takes its `initLoc` value as it is
 * reached, so the later sites (parameters, shapes, validity) are those at the init values, not at
 * a prior draw. A GP with `LogNormal(0, 10)` hyperparameter priors (NumPyro's GP example) sets up
 * and trains with validation on; a site whose shape follows an upstream latent gets the shape at
 * the init value.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

const { sample } = ppl;

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

const N = 10;
const xs = Array.from({ length: N }, (_, i) => -1 + (2 * i) / (N - 1));
const ys = xs.map((x) => Math.sin(3 * x) + 0.1 * Math.cos(7 * x));

/**
 * NumPyro's GP regression: RBF kernel `K_ij = var exp(-(x_i - x_j)^2 / (2 l^2)) + (noise + 1e-6)
 * delta_ij` with `LogNormal(0, 10)` priors; at an extreme draw (a huge `var`/`noise` ratio with a
 * long lengthscale) `K` is numerically singular and the validated `MultivariateNormal` refuses it.
 */
const gp = (x: tf.Tensor, y: tf.Tensor): void => {
  const v = sample('kernel_var', new D.LogNormal(0, 10));
  const l = sample('kernel_length', new D.LogNormal(0, 10));
  const noise = sample('kernel_noise', new D.LogNormal(0, 10));
  const d2 = tf.square(tf.sub(tf.expandDims(x, -1), tf.expandDims(x, -2)));
  const k = tf.add(
    tf.mul(v, tf.exp(tf.div(tf.mul(-0.5, d2), tf.square(l)))),
    tf.mul(tf.add(noise, 1e-6), tf.eye(N)),
  );
  sample('y', new D.MultivariateNormal(tf.zeros([N]), { covarianceMatrix: k }), { obs: y });
};

const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7];

describe(
  'autoguide prototype at the init point (Pyro _setup_prototype)',
  { timeout: 600_000 },
  () => {
    it('a GP with LogNormal(0, 10) hyperpriors sets up with validation on, for every seed', () => {
      const x = tf.tensor1d(xs);
      const y = tf.tensor1d(ys);
      for (const seed of SEEDS) {
        for (const initLoc of ['feasible', 'median'] as const) {
          setSeed(seed);
          const guide = new ppl.AutoDiagonalNormal(gp, { initLoc });
          const sites = guide.latentSites(x, y);
          expect(sites.map((s) => s.name)).toEqual(['kernel_var', 'kernel_length', 'kernel_noise']);
          if (initLoc === 'feasible') {
            // zeros in the unconstrained space: every hyperparameter at exp(0) = 1
            for (const s of sites) expect(Array.from(s.init.dataSync())).toEqual([0]);
          }
          guide.dispose();
          ppl.clearParamStore();
        }
      }
      tf.dispose([x, y]);
    });

    it('the GP trains by SVI with validation on; ELBO finite and decreasing', () => {
      setSeed(2); // the prior-draw prototype drew a singular kernel here (4 of seeds 0..29)
      const x = tf.tensor1d(xs);
      const y = tf.tensor1d(ys);
      const guide = new ppl.AutoNormal(gp);
      const svi = new ppl.SVI(gp, guide, tf.train.adam(0.05), new ppl.TraceELBO());
      const losses: number[] = [];
      for (let i = 0; i < 200; i++) losses.push(svi.step(x, y));
      expect(losses.every(Number.isFinite)).toBe(true);
      const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
      expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)) - 1);
      guide.dispose();
      tf.dispose([x, y]);
    });

    /** The size of `z` follows the upstream latent `k` (a downstream shape at the init value). */
    const sized = (): void => {
      const k = sample('k', new D.LogNormal(0, 1));
      const m = Math.max(1, Math.round(3 * (k.dataSync()[0] as number)));
      sample('z', new D.Normal(tf.zeros([m]), 1).toEvent(1));
    };

    it("a downstream site's shape is the one at the init value of the upstream latent", () => {
      for (const seed of SEEDS) {
        setSeed(seed);
        const feasible = new ppl.AutoNormal(sized); // k = 1: z of size 3
        expect(feasible.latentSites().map((s) => s.shape)).toEqual([[], [3]]);
        feasible.dispose();
        const given = new ppl.AutoNormal(sized, { initLoc: ppl.initToValue({ k: 2 }) });
        expect(given.latentSites().map((s) => s.shape)).toEqual([[], [6]]);
        expect(Array.from(given.latentSites()[0]?.init.dataSync() ?? [])).toEqual([
          Math.fround(Math.log(2)),
        ]);
        given.dispose();
        const joint = new ppl.AutoMultivariateNormal(sized, {
          initLoc: ppl.initToValue({ k: 1.5 }),
        });
        expect(joint.latentSites().map((s) => s.size)).toEqual([1, 5]);
        joint.dispose();
      }
    });

    it('a user initLoc function gets the prior draw, and its value is what later sites see', () => {
      setSeed(11);
      const seen: Record<string, number[]> = {};
      const guide = new ppl.AutoDelta(sized, {
        initLoc: (name, draw) => {
          seen[name] = [...draw.shape];
          return name === 'k' ? tf.scalar(4 / 3) : tf.onesLike(draw);
        },
      });
      const sites = guide.latentSites();
      expect(seen).toEqual({ k: [], z: [4] });
      expect(sites.map((s) => s.shape)).toEqual([[], [4]]);
      guide.dispose();
      const bad = new ppl.AutoDelta(sized, { initLoc: () => tf.zeros([2, 2]) });
      expect(() => bad.latentSites()).toThrow(/initLoc.*site 'k'.*shape \[\]/s);
      bad.dispose();
      // a value off the support is refused, naming the site (it gave a NaN location before)
      const simplex = (): void => void sample('w', new D.Dirichlet(tf.ones([3])));
      const off = new ppl.AutoDelta(simplex, { initLoc: (_name, draw) => tf.onesLike(draw) });
      expect(() => off.latentSites()).toThrow(/site 'w'.*outside the support simplex/s);
      off.dispose();
    });

    it('setting up leaves no tensors behind, under every strategy', () => {
      const x = tf.tensor1d(xs);
      const y = tf.tensor1d(ys);
      for (const initLoc of ['feasible', 'median', 'mean', 'uniform'] as const) {
        setSeed(5);
        expectNoLeak(() => {
          const guide = new ppl.AutoMultivariateNormal(gp, { initLoc });
          guide.latentSites(x, y);
          guide.dispose();
        });
      }
      expectNoLeak(() => {
        const g = new ppl.AutoNormal(sized, { initLoc: ppl.initToValue({ k: 2 }) });
        g.latentSites();
        g.dispose();
        const h = new ppl.AutoDelta(sized, { initLoc: (_name, draw) => tf.onesLike(draw) });
        h.latentSites();
        h.dispose();
      });
      tf.dispose([x, y]);
    });
  },
);
