/**
 * Audit 17 (NumPyro parity): `ppl.scan` (numpyro.contrib.control_flow.scan): trace names and
 * shapes against the hand-written loop, log-densities equal to the loop's, handlers outside the
 * scan (condition, substitute, seed, replay, block, plates, uncondition), reverse, history, the
 * values outside any handler, bad inputs and memory.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { expectBadInput } from '../helpers.js';

const T = 6;
const obs = [0.3, -0.4, 0.9, 1.7, 1.1, 2.0];

/** AR(1) with noise scale sigma, observed through xs (scanned). */
function arScan(y: tf.Tensor): tf.Tensor {
  const rho = ppl.sample('rho', new D.Uniform(-1, 1));
  const sigma = ppl.sample('sigma', new D.HalfNormal(1));
  const [, ys] = ppl.scan(
    (prev: tf.Tensor, yt: tf.Tensor) => {
      const v = ppl.sample('y', new D.Normal(tf.mul(rho, prev), sigma), { obs: yt });
      return [v, v] as const;
    },
    tf.scalar(0),
    y,
  );
  return ys;
}

/** The same AR(1) as a hand loop with per-step sites y_0, y_1, ... */
function arLoop(y: tf.Tensor): void {
  const rho = ppl.sample('rho', new D.Uniform(-1, 1));
  const sigma = ppl.sample('sigma', new D.HalfNormal(1));
  const rows = tf.unstack(y);
  let prev: tf.Tensor = tf.scalar(0);
  rows.forEach((yt, t) => {
    prev = ppl.sample(`y_${t}`, new D.Normal(tf.mul(rho, prev), sigma), { obs: yt });
  });
}

/** Local level: latent Gaussian random walk x plus observation noise (both scanned). */
function localLevel(y: tf.Tensor | null, n = T): void {
  const tau = ppl.sample('tau', new D.HalfNormal(1));
  ppl.scan(
    (x: tf.Tensor, yt: tf.Tensor | null) => {
      const xt = ppl.sample('x', new D.Normal(x, tau));
      ppl.sample('y', new D.Normal(xt, 0.5), { obs: yt });
      return [xt, null] as const;
    },
    tf.scalar(0),
    y,
    { length: n },
  );
}

function localLevelLoop(y: tf.Tensor): void {
  const tau = ppl.sample('tau', new D.HalfNormal(1));
  const rows = tf.unstack(y);
  let x: tf.Tensor = tf.scalar(0);
  rows.forEach((yt, t) => {
    x = ppl.sample(`x_${t}`, new D.Normal(x, tau));
    ppl.sample(`y_${t}`, new D.Normal(x, 0.5), { obs: yt });
  });
}

function lp(
  model: (...a: tf.Tensor[]) => unknown,
  params: Record<string, tf.Tensor | number>,
  ...args: tf.Tensor[]
): number {
  return tf.tidy(
    () =>
      ppl
        .logDensity(model as (y: tf.Tensor) => void, params, ...(args as [tf.Tensor]))
        .arraySync() as number,
  );
}

describe('scan: trace of a scanned model', () => {
  it('records each scanned site once, stacked [T, ...], with a [T] log-density', () => {
    const y = tf.tensor1d(obs);
    const before = tf.memory().numTensors;
    const tr = ppl.trace(ppl.seed(arScan, 1)).getTrace(y);
    expect([...tr.nodes.keys()]).toEqual(['rho', 'sigma', 'y']);
    const site = tr.get('y') as ppl.Message;
    expect(site.value?.shape).toEqual([T]);
    expect(site.isObserved).toBe(true);
    expect(site.fn?.batchShape).toEqual([T]);
    expect(Array.from(site.value?.dataSync() ?? [])).toEqual(Array.from(y.dataSync()));
    const lps = tr.computeLogProb();
    expect(lps.get('y')?.shape).toEqual([T]);
    tr.dispose();
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('the per-step log-densities equal those of the hand loop (same kernels, same values)', () => {
    const y = tf.tensor1d(obs);
    const sub = { rho: tf.scalar(0.6), sigma: tf.scalar(0.8) };
    const trS = ppl.trace(ppl.substitute(arScan, sub)).getTrace(y);
    const trL = ppl.trace(ppl.substitute(arLoop, sub)).getTrace(y);
    const scanned = Array.from(trS.computeLogProb().get('y')?.dataSync() ?? []);
    const loop = obs.map((_, t) => trL.computeLogProb().get(`y_${t}`)?.dataSync()[0]);
    expect(scanned).toEqual(loop);
    // float64 reference: y_t ~ N(0.6 y_{t-1}, 0.8)
    let prev = 0;
    obs.forEach((v, t) => {
      const m = 0.6 * prev;
      const ref = -0.5 * Math.log(2 * Math.PI) - Math.log(0.8) - (v - m) ** 2 / (2 * 0.64);
      expect(scanned[t]).toBeCloseTo(ref, 5);
      prev = v;
    });
    trS.dispose();
    trL.dispose();
    tf.dispose([y, sub.rho, sub.sigma]);
  });

  it('log joint of a latent random walk equals the hand loop at the same path', () => {
    const y = tf.tensor1d(obs);
    const before = tf.memory().numTensors;
    const path = [0.1, -0.2, 0.7, 1.4, 1.2, 1.8];
    const params: Record<string, tf.Tensor | number> = { tau: 0.7, x: tf.tensor1d(path) };
    const loopParams: Record<string, tf.Tensor | number> = { tau: 0.7 };
    path.forEach((v, t) => (loopParams[`x_${t}`] = v));
    const a = lp(localLevel as (y: tf.Tensor) => void, params, y);
    const b = lp(localLevelLoop, loopParams, y);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * Math.abs(b));
    // float64 reference
    let ref = Math.log(2) - 0.5 * Math.log(2 * Math.PI) - 0.49 / 2; // HalfNormal(1) at 0.7
    let prev = 0;
    path.forEach((x, t) => {
      ref += -0.5 * Math.log(2 * Math.PI) - Math.log(0.7) - (x - prev) ** 2 / (2 * 0.49);
      ref += -0.5 * Math.log(2 * Math.PI) - Math.log(0.5) - ((obs[t] as number) - x) ** 2 / 0.5;
      prev = x;
    });
    expect(a).toBeCloseTo(ref, 3);
    (params.x as tf.Tensor).dispose();
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });

  it('condition gives the stacked observation; substitute / replay give the stacked latent', () => {
    const y = tf.tensor1d(obs);
    const path = tf.tensor1d([0.1, -0.2, 0.7, 1.4, 1.2, 1.8]);
    const cond = ppl.condition(() => localLevel(null), { y, x: path });
    const tr = ppl.trace(ppl.seed(cond, 3)).getTrace();
    expect(tr.get('y')?.isObserved).toBe(true);
    expect(tr.get('x')?.isObserved).toBe(true);
    expect(Array.from(tr.get('y')?.value?.dataSync() ?? [])).toEqual(Array.from(y.dataSync()));
    // replay a prior trace (another seed): the same latent path and draws of y
    const prior = ppl.trace(ppl.seed(() => localLevel(null), 5)).getTrace();
    const rep = ppl
      .trace(
        ppl.seed(
          ppl.replay(() => localLevel(null), prior),
          9,
        ),
      )
      .getTrace();
    expect(Array.from(rep.get('x')?.value?.dataSync() ?? [])).toEqual(
      Array.from(prior.get('x')?.value?.dataSync() ?? []),
    );
    expect(Array.from(rep.get('y')?.value?.dataSync() ?? [])).toEqual(
      Array.from(prior.get('y')?.value?.dataSync() ?? []),
    );
    const other = ppl.trace(ppl.seed(() => localLevel(null), 9)).getTrace();
    expect(Array.from(other.get('x')?.value?.dataSync() ?? [])).not.toEqual(
      Array.from(prior.get('x')?.value?.dataSync() ?? []),
    );
    other.dispose();
    const subd = ppl
      .trace(
        ppl.substitute(
          ppl.seed(() => localLevel(null), 2),
          { x: path },
        ),
      )
      .getTrace();
    expect(Array.from(subd.get('x')?.value?.dataSync() ?? [])).toEqual(Array.from(path.dataSync()));
    expect(subd.get('x')?.isObserved).toBe(false);
    [tr, prior, rep, subd].forEach((t) => t.dispose());
    tf.dispose([y, path]);
  });

  it('a conditioned value shorter than the scan: the first L steps observed, the rest drawn from the seed', () => {
    const y = tf.tensor1d(obs.slice(0, 4));
    const run = (s: number): number[] => {
      const m = ppl.seed(
        ppl.condition(() => localLevel(null, T), { y }),
        s,
      );
      const tr = ppl.trace(m).getTrace();
      const site = tr.get('y') as ppl.Message;
      expect(site.value?.shape).toEqual([T]);
      expect(site.isObserved).toBe(true);
      const v = Array.from(site.value?.dataSync() ?? []);
      tr.dispose();
      return v;
    };
    const a = run(3);
    expect(a.slice(0, 4)).toEqual(obs.slice(0, 4).map((v) => Math.fround(v)));
    expect(run(3)).toEqual(a);
    expect(run(4).slice(4)).not.toEqual(a.slice(4));
    y.dispose();
  });

  it('seed makes the scanned draws reproducible; different seeds differ; block hides the site', () => {
    const draw = (s: number): number[] => {
      const tr = ppl.trace(ppl.seed(() => localLevel(null), s)).getTrace();
      const v = Array.from(tr.get('x')?.value?.dataSync() ?? []);
      tr.dispose();
      return v;
    };
    expect(draw(4)).toEqual(draw(4));
    expect(draw(4)).not.toEqual(draw(5));
    const tr = ppl
      .trace(
        ppl.seed(
          ppl.block(() => localLevel(null), { hide: ['x'] }),
          1,
        ),
      )
      .getTrace();
    expect([...tr.nodes.keys()]).toEqual(['tau', 'y']);
    expect(tr.get('y')?.value?.shape).toEqual([T]);
    tr.dispose();
  });

  it('the latent path follows the random walk: the draws of x_t - x_{t-1} have sd tau (MC)', () => {
    // 400 draws of a 6-step walk with tau = 0.7: sd of increments 0.7 +- 3 SE
    const n = 400;
    const incs: number[] = [];
    for (let s = 0; s < n; s++) {
      const tr = ppl
        .trace(
          ppl.seed(
            ppl.substitute(() => localLevel(null), { tau: 0.7 }),
            s,
          ),
        )
        .getTrace();
      const x = Array.from(tr.get('x')?.value?.dataSync() ?? []);
      incs.push((x[5] as number) - (x[4] as number));
      tr.dispose();
    }
    const sd = Math.sqrt(incs.reduce((a, v) => a + v * v, 0) / n);
    expect(Math.abs(sd - 0.7)).toBeLessThan(3 * (0.7 / Math.sqrt(2 * n)));
  });

  it('plates inside the body broadcast each step (NumPyro: plates go inside f); log-density [T, ...]', () => {
    const N = 3;
    const body = (x: tf.Tensor): readonly [tf.Tensor, null] => {
      let xt = x;
      ppl.plate('series', N, () => {
        xt = ppl.sample('x', new D.Normal(x, 1));
        ppl.plate('rep', 2, () => ppl.sample('z', new D.Normal(xt, 1)));
      });
      return [xt, null];
    };
    const model = (): void => {
      ppl.scan(body, tf.zeros([N]), null, { length: 4 });
    };
    const tr = ppl.trace(ppl.seed(model, 0)).getTrace();
    expect(tr.get('x')?.value?.shape).toEqual([4, N]);
    expect(tr.get('z')?.value?.shape).toEqual([4, 2, N]);
    expect(tr.get('x')?.cond.map((f) => f.name)).toEqual(['series']);
    expect(tr.get('z')?.cond.map((f) => f.name)).toEqual(['series', 'rep']);
    expect(tr.computeLogProb().get('z')?.shape).toEqual([4, 2, N]);
    // the log joint equals the hand loop's at the same values
    const loop = (): void => {
      let x = tf.zeros([N]);
      for (let t = 0; t < 4; t++) {
        const prev = x;
        ppl.plate('series', N, () => {
          x = ppl.sample(`x_${t}`, new D.Normal(prev, 1));
          const xt = x;
          ppl.plate('rep', 2, () => ppl.sample(`z_${t}`, new D.Normal(xt, 1)));
        });
      }
    };
    const xv = tr.get('x')?.value as tf.Tensor;
    const zv = tr.get('z')?.value as tf.Tensor;
    const loopParams: Record<string, tf.Tensor> = {};
    const xs = tf.unstack(xv);
    const zs = tf.unstack(zv);
    for (let t = 0; t < 4; t++) {
      loopParams[`x_${t}`] = xs[t] as tf.Tensor;
      loopParams[`z_${t}`] = zs[t] as tf.Tensor;
    }
    const a = lp(model as () => void, { x: xv, z: zv });
    const b = lp(loop as () => void, loopParams);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * Math.abs(b));
    tf.dispose([...xs, ...zs]);
    tr.dispose();
  });

  it('deterministic and factor sites inside the body are stacked; a param is one site', () => {
    ppl.clearParamStore();
    const model = (): void => {
      ppl.scan(
        (c: tf.Tensor) => {
          const w = ppl.param('w', tf.scalar(0.5));
          const x = ppl.sample('x', new D.Normal(tf.mul(w, c), 1));
          ppl.deterministic('twice', tf.mul(x, 2));
          ppl.factor('pen', tf.neg(tf.square(x)));
          return [x, null] as const;
        },
        tf.scalar(1),
        null,
        { length: 3 },
      );
    };
    const tr = ppl.trace(ppl.seed(model, 0)).getTrace();
    expect([...tr.nodes.keys()]).toEqual(['w', 'x', 'twice', 'pen']);
    const x = Array.from(tr.get('x')?.value?.dataSync() ?? []);
    expect(Array.from(tr.get('twice')?.value?.dataSync() ?? [])).toEqual(x.map((v) => 2 * v));
    const pen = Array.from(tr.computeLogProb().get('pen')?.dataSync() ?? []);
    pen.forEach((p, t) => expect(p).toBeCloseTo(-((x[t] as number) ** 2), 4));
    tr.dispose();
    ppl.clearParamStore();
  });

  it('uncondition draws the scanned observation as a latent and keeps the data in infer.obs', () => {
    const y = tf.tensor1d(obs);
    const tr = ppl
      .trace(
        ppl.seed(
          ppl.uncondition(() => localLevel(y)),
          2,
        ),
      )
      .getTrace();
    const site = tr.get('y') as ppl.Message;
    expect(site.isObserved).toBe(false);
    expect(site.infer.wasObserved).toBe(true);
    expect(Array.from((site.infer.obs as tf.Tensor).dataSync())).toEqual(
      obs.map((v) => Math.fround(v)),
    );
    expect(Array.from(site.value?.dataSync() ?? [])).not.toEqual(obs.map((v) => Math.fround(v)));
    tr.dispose();
    y.dispose();
  });
});

describe('scan: scale, mask, obsMask, autoguides', () => {
  it('scale outside applies to the stacked site; a per-step mask inside is stacked', () => {
    const y = tf.tensor1d(obs);
    const path = tf.tensor1d([0.1, -0.2, 0.7, 1.4, 1.2, 1.8]);
    const params = { tau: 0.7, x: path };
    const base = lp(localLevel as (y: tf.Tensor) => void, params, y);
    const scaled = lp(ppl.scale(localLevel, 3) as (y: tf.Tensor) => void, params, y);
    expect(scaled).toBeCloseTo(3 * base, 3);
    // observe only the even steps: mask per step
    const masked = (yy: tf.Tensor): void => {
      const tau = ppl.sample('tau', new D.HalfNormal(1));
      ppl.scan(
        (x: tf.Tensor, inp: { y: tf.Tensor; m: tf.Tensor }) => {
          const xt = ppl.sample('x', new D.Normal(x, tau));
          ppl.mask(() => ppl.sample('y', new D.Normal(xt, 0.5), { obs: inp.y }), inp.m)();
          return [xt, null] as const;
        },
        tf.scalar(0),
        { y: yy, m: tf.tensor1d([1, 0, 1, 0, 1, 0], 'bool') },
      );
    };
    const got = lp(masked, params, y);
    let ref = Math.log(2) - 0.5 * Math.log(2 * Math.PI) - 0.49 / 2;
    let prev = 0;
    const pv = [0.1, -0.2, 0.7, 1.4, 1.2, 1.8];
    pv.forEach((x, t) => {
      ref += -0.5 * Math.log(2 * Math.PI) - Math.log(0.7) - (x - prev) ** 2 / (2 * 0.49);
      if (t % 2 === 0) {
        ref += -0.5 * Math.log(2 * Math.PI) - Math.log(0.5) - ((obs[t] as number) - x) ** 2 / 0.5;
      }
      prev = x;
    });
    expect(got).toBeCloseTo(ref, 3);
    tf.dispose([y, path]);
  });

  it('obsMask inside the body: y_observed, y_unobserved and y each stacked', () => {
    const model = (): void => {
      ppl.scan(
        (x: tf.Tensor, inp: { y: tf.Tensor; m: tf.Tensor }) => {
          const xt = ppl.sample('x', new D.Normal(x, 1));
          ppl.sample('y', new D.Normal(xt, 0.5), { obs: inp.y, obsMask: inp.m });
          return [xt, null] as const;
        },
        tf.zeros([2]),
        {
          y: tf.tensor2d([
            [1, 2],
            [3, 4],
            [5, 6],
          ]),
          m: tf.tensor2d(
            [
              [true, false],
              [true, true],
              [false, true],
            ],
            [3, 2],
            'bool',
          ),
        },
      );
    };
    const tr = ppl.trace(ppl.seed(model, 1)).getTrace();
    expect([...tr.nodes.keys()]).toEqual(['x', 'y_observed', 'y_unobserved', 'y']);
    expect(tr.get('y')?.value?.shape).toEqual([3, 2]);
    const v = tr.get('y')?.value?.arraySync() as number[][];
    expect([v[0]?.[0], v[1]?.[0], v[1]?.[1], v[2]?.[1]]).toEqual([1, 3, 4, 6]);
    tr.dispose();
  });

  it('AutoDiagonalNormal sees one latent [T] per scanned site (latent dim T + 1)', () => {
    ppl.clearParamStore();
    const y = tf.tensor1d(obs);
    const guide = new ppl.AutoDiagonalNormal(localLevel);
    const opt = tf.train.adam(0.01);
    const svi = new ppl.SVI(localLevel, guide, opt, new ppl.TraceELBO());
    for (let i = 0; i < 3; i++) expect(Number.isFinite(svi.step(y))).toBe(true);
    expect(guide.latentDim).toBe(T + 1);
    const med = guide.median();
    expect(med.x?.shape).toEqual([T]);
    expect(med.tau?.shape).toEqual([]);
    tf.dispose(Object.values(med));
    opt.dispose();
    y.dispose();
    ppl.clearParamStore();
  });
});

describe('scan: model inspection', () => {
  it('getModelRelations / renderModel see the dependencies through the steps (y on x, x on tau; direct only)', () => {
    const y = tf.tensor1d(obs);
    const before = tf.memory().numTensors;
    const rel = ppl.getModelRelations(localLevel as (y: tf.Tensor) => void, [y]);
    expect(rel.sampleSample.x).toEqual(['tau']);
    expect(rel.sampleSample.y).toEqual(['x']); // direct dependencies only, as Pyro's
    expect(rel.observed).toEqual(['y']);
    const dot = ppl.renderModel(localLevel as (y: tf.Tensor) => void, [y]);
    expect(dot).toContain('x -> y');
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });
});

describe('scan: values, reverse, history', () => {
  it('outside any handler: a cumulative sum, ys stacked, trees sliced; no tensor left', () => {
    const xs = {
      a: tf.tensor1d([1, 2, 3, 4]),
      b: [
        tf.tensor2d([
          [1, 0],
          [0, 1],
          [1, 1],
          [2, 2],
        ]),
      ],
    };
    const init = tf.scalar(0);
    const before = tf.memory().numTensors;
    const [c, ys] = ppl.scan(
      (carry: tf.Tensor, x: typeof xs) => {
        const next = tf.add(carry, x.a);
        return [next, { s: next, v: tf.sum(x.b[0] as tf.Tensor) }] as const;
      },
      init,
      xs,
    );
    expect(c.dataSync()[0]).toBe(10);
    expect(Array.from(ys.s.dataSync())).toEqual([1, 3, 6, 10]);
    expect(Array.from(ys.v.dataSync())).toEqual([1, 1, 2, 4]);
    tf.dispose([c, ys.s, ys.v]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs.a, ...xs.b, init]);
  });

  it('reverse runs t = T-1 .. 0 and keeps ys indexed by t (a reverse cumulative sum)', () => {
    const x = tf.tensor1d([1, 2, 3, 4]);
    const [c, ys] = ppl.scan(
      (carry: tf.Tensor, xt: tf.Tensor) => {
        const next = tf.add(carry, xt);
        return [next, next] as const;
      },
      tf.scalar(0),
      x,
      { reverse: true },
    );
    expect(Array.from(ys.dataSync())).toEqual([10, 9, 7, 4]);
    expect(c.dataSync()[0]).toBe(10);
    // under handlers: the stacked site is indexed by t, conditioning aligns with xs
    const model = (): void => {
      ppl.scan(
        (carry: tf.Tensor, xt: tf.Tensor) => {
          const v = ppl.sample('v', new D.Normal(tf.add(carry, xt), 0.01));
          return [v, null] as const;
        },
        tf.scalar(0),
        x,
        { reverse: true },
      );
    };
    const tr = ppl.trace(ppl.seed(model, 1)).getTrace();
    const v = Array.from(tr.get('v')?.value?.dataSync() ?? []);
    [10, 9, 7, 4].forEach((r, t) => expect(v[t]).toBeCloseTo(r, 0));
    tr.dispose();
    tf.dispose([x, c, ys]);
  });

  it('history (NumPyro: the Markov order for enumeration) is accepted and changes nothing', () => {
    const run = (history: number): number[] => {
      const model = (): void => {
        ppl.scan(
          (c: tf.Tensor) => [ppl.sample('x', new D.Normal(c, 1)), null] as const,
          tf.scalar(0),
          null,
          { length: 5, history },
        );
      };
      const tr = ppl.trace(ppl.seed(model, 7)).getTrace();
      const v = Array.from(tr.get('x')?.value?.dataSync() ?? []);
      tr.dispose();
      return v;
    };
    expect(run(2)).toEqual(run(1));
    expect(run(0)).toEqual(run(1));
  });
});

describe('scan: bad input', () => {
  const x3 = (): tf.Tensor => tf.zeros([3]);
  const body = (c: tf.Tensor, x: tf.Tensor): readonly [tf.Tensor, null] => [tf.add(c, x), null];
  /** Run `f` in a tidy (its tensors freed), returning nothing. */
  const inTidy =
    (f: () => unknown): (() => void) =>
    () =>
      tf.tidy(() => {
        f();
      });
  const cases = [
    {
      call: 'xs leaves of different leading sizes',
      run: inTidy(() =>
        ppl.scan((c: tf.Tensor) => [c, null] as const, tf.scalar(0), [x3(), tf.zeros([4])]),
      ),
      arg: 'xs',
      message: /leading size/,
    },
    {
      call: 'length that does not match xs',
      run: inTidy(() => ppl.scan(body, tf.scalar(0), x3(), { length: 4 })),
      arg: 'length',
    },
    {
      call: 'no xs and no length',
      run: inTidy(() => ppl.scan(body, tf.scalar(0), null)),
      arg: 'length',
    },
    {
      call: 'length 0',
      run: inTidy(() => ppl.scan(body, tf.scalar(0), null, { length: 0 })),
      arg: 'length',
    },
    {
      call: 'a scalar leaf in xs',
      run: inTidy(() => ppl.scan(body, tf.scalar(0), tf.scalar(1))),
      arg: 'xs',
    },
    {
      call: 'f not a function',
      run: inTidy(() => ppl.scan(3 as unknown as typeof body, tf.scalar(0), null, { length: 2 })),
      arg: 'f',
    },
    {
      call: 'f returning a non-pair',
      run: inTidy(() =>
        ppl.scan(((c: tf.Tensor) => c) as unknown as typeof body, tf.scalar(0), x3()),
      ),
      arg: 'f',
      message: /\[carry, y\]/,
    },
    {
      call: 'an unknown option key',
      run: inTidy(() => ppl.scan(body, tf.scalar(0), null, { lenght: 2 } as never)),
      arg: 'lenght',
    },
    {
      call: 'reverse not a boolean',
      run: inTidy(() => ppl.scan(body, tf.scalar(0), null, { length: 2, reverse: 1 as never })),
      arg: 'reverse',
    },
    {
      call: 'history -1',
      run: inTidy(() => ppl.scan(body, tf.scalar(0), null, { length: 2, history: -1 })),
      arg: 'history',
    },
    {
      call: 'a site appearing in some steps only',
      run: inTidy(() =>
        ppl
          .trace(() =>
            ppl.scan(
              (c: tf.Tensor, x: tf.Tensor) => {
                if ((x.dataSync()[0] as number) > 0) ppl.sample('w', new D.Normal(0, 1));
                return [ppl.sample('x', new D.Normal(c, 1)), null] as const;
              },
              tf.scalar(0),
              tf.tensor1d([0, 1, 0]),
            ),
          )
          .getTrace()
          .dispose(),
      ),
      arg: 'w',
    },
    {
      call: 'a parallel-enumerated site inside the body (under enumerate)',
      run: inTidy(() =>
        ppl
          .trace(
            ppl.enumerate(
              () =>
                ppl.scan(
                  (_c: tf.Tensor) =>
                    [
                      ppl.sample('k', new D.Bernoulli({ probs: 0.5 }), {
                        infer: { enumerate: 'parallel' },
                      }),
                      null,
                    ] as const,
                  tf.scalar(0),
                  null,
                  { length: 2 },
                ),
              -1,
            ),
          )
          .getTrace()
          .dispose(),
      ),
      arg: 'k',
      message: /not supported/,
    },
    {
      call: 'a conditioned value longer than the scan',
      run: inTidy(() =>
        ppl
          .trace(ppl.condition(() => localLevel(null, 3), { y: tf.zeros([5]) }))
          .getTrace()
          .dispose(),
      ),
      arg: 'y',
    },
    {
      call: 'a site observed at some steps only',
      run: inTidy(() => {
        let k = 0;
        ppl
          .trace(() =>
            ppl.scan(
              (c: tf.Tensor, x: tf.Tensor) => {
                const o = k++ % 2 === 0 ? x : null;
                return [ppl.sample('y', new D.Normal(c, 1), { obs: o }), null] as const;
              },
              tf.scalar(0),
              tf.zeros([4]),
            ),
          )
          .getTrace()
          .dispose();
      }),
      arg: 'y',
      message: /observed at some steps/,
    },
    {
      call: 'a scan inside a plate (NumPyro: put the plate inside f)',
      run: inTidy(() =>
        ppl
          .trace(() =>
            ppl.plate('N', 3, () =>
              ppl.scan(
                (c: tf.Tensor) => [ppl.sample('x', new D.Normal(c, 1)), null] as const,
                tf.scalar(0),
                null,
                {
                  length: 2,
                },
              ),
            ),
          )
          .getTrace()
          .dispose(),
      ),
      arg: 'N',
      message: /inside the body/,
    },
    {
      call: 'a scan inside a scan',
      run: inTidy(() =>
        ppl
          .trace(() =>
            ppl.scan(
              (c: tf.Tensor) => {
                ppl.scan((d: tf.Tensor) => [d, null] as const, c, null, { length: 2 });
                return [c, null] as const;
              },
              tf.scalar(0),
              null,
              { length: 2 },
            ),
          )
          .getTrace()
          .dispose(),
      ),
      arg: 'f',
    },
  ];
  for (const c of cases) it(c.call, async () => expectBadInput(c));

  it('errors are ArgumentErrors before any step runs (options checked first)', () => {
    let ran = false;
    expect(() =>
      ppl.scan(
        (c: tf.Tensor) => {
          ran = true;
          return [c, null] as const;
        },
        tf.scalar(0),
        null,
        { length: 2.5 },
      ),
    ).toThrow(ArgumentError);
    expect(ran).toBe(false);
  });
});
