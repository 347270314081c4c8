/**
 * Audit (issue 14): plates as in Pyro, off the seed paths. Nested plates (default and negative
 * dims), sites whose batch shape already matches, needs broadcasting, or cannot broadcast (an
 * ArgumentError naming the site), subsampling by `subsampleSize` and by indices with the exact
 * `size / subsampleSize` scale, multivariate / `toEvent` / `expand` / `mask` sites in plates,
 * `factor` and `reparam` (LocScale, Transform) inside plates, bad plate options. Log-densities
 * against float64 sums written here; tensor counts unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { bijectors, distributions as D, ppl } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput } from '../helpers.js';

const { sample, plate, factor } = ppl;

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const LN2PI = Math.log(2 * Math.PI);
const normLp = (x: number, m = 0, s = 1): number =>
  -0.5 * ((x - m) / s) ** 2 - Math.log(s) - 0.5 * LN2PI;

/** Trace `model`, hand back the shapes, values and log-density of its sites; no leak. */
function run(model: () => void): {
  shapes: Record<string, number[]>;
  values: Record<string, number[]>;
  scales: Record<string, number>;
  logp: number;
} {
  const before = tf.memory().numTensors;
  const tr = ppl.trace(model).getTrace();
  const shapes: Record<string, number[]> = {};
  const values: Record<string, number[]> = {};
  const scales: Record<string, number> = {};
  for (const s of tr.sites()) {
    if (s.value !== null) {
      shapes[s.name] = [...s.value.shape];
      values[s.name] = Array.from(s.value.dataSync());
    }
    scales[s.name] = typeof s.scale === 'number' ? s.scale : NaN;
  }
  const lp = tr.logProbSum();
  const logp = lp.dataSync()[0] as number;
  lp.dispose();
  tr.dispose();
  expect(tf.memory().numTensors, 'tensors leaked by the traced run').toBe(before);
  return { shapes, values, scales, logp };
}

function expectSiteError(model: () => void, site: string, message?: RegExp): void {
  const before = tf.memory().numTensors;
  let err: unknown;
  try {
    ppl.trace(model).getTrace().dispose();
  } catch (e) {
    err = e;
  }
  expect(err, 'no ArgumentError').toBeInstanceOf(ArgumentError);
  expect((err as ArgumentError).argument).toBe(site);
  expect((err as Error).message).toContain(`'${site}'`);
  if (message) expect((err as Error).message).toMatch(message);
  expect(tf.memory().numTensors, 'tensors leaked by the failing run').toBe(before);
}

describe('audit14: plates broadcast sites as Pyro does', () => {
  it('nested plates with default dims: outer at -1, inner at -2, site [inner, outer]', () => {
    setSeed(1);
    const r = run(() =>
      plate('a', 3, () => plate('b', 4, () => sample('z', new D.Normal(0.5, 2)))),
    );
    expect(r.shapes.z).toEqual([4, 3]);
    const want = r.values.z!.reduce((s, x) => s + normLp(x, 0.5, 2), 0);
    expect(Math.abs(r.logp - want)).toBeLessThan(1e-3);
  });

  it('explicit negative dims leave holes of size 1: dim -3 and -1 give [2, 1, 5]', () => {
    setSeed(2);
    const r = run(() =>
      plate('p', 2, { dim: -3 }, () =>
        plate('q', 5, { dim: -1 }, () => sample('z', new D.Normal(0, 1))),
      ),
    );
    expect(r.shapes.z).toEqual([2, 1, 5]);
    const want = r.values.z!.reduce((s, x) => s + normLp(x), 0);
    expect(Math.abs(r.logp - want)).toBeLessThan(1e-3);
  });

  it('a site whose batch shape already matches keeps its parameters per member', () => {
    const locs = [-1, 0, 2];
    const r = run(() =>
      plate('J', 3, () =>
        sample('y', new D.Normal(tf.tensor1d(locs), 1), { obs: tf.tensor1d([0, 0, 0]) }),
      ),
    );
    expect(r.shapes.y).toEqual([3]);
    const want = locs.reduce((s, m) => s + normLp(0, m, 1), 0);
    expect(Math.abs(r.logp - want)).toBeLessThan(1e-4);
  });

  it('a site of batch shape [1] is broadcast to the plate', () => {
    setSeed(3);
    const r = run(() => plate('J', 6, () => sample('z', new D.Normal(tf.tensor1d([1]), 1))));
    expect(r.shapes.z).toEqual([6]);
    // six independent draws, not one repeated
    expect(new Set(r.values.z!).size).toBe(6);
  });

  it('a site whose batch dim cannot broadcast with its plate: an error naming the site and the plate', () => {
    expectSiteError(
      () => plate('J', 3, () => sample('theta', new D.Normal(tf.zeros([4]), 1))),
      'theta',
      /'J'/,
    );
  });

  it('an observed value that does not broadcast with its plate names the site', () => {
    expectSiteError(
      () => plate('data', 5, () => sample('y', new D.Normal(0, 1), { obs: tf.zeros([4]) })),
      'y',
    );
  });

  it('a vector site (Dirichlet) in a plate: [plate, event]; a toEvent site keeps its event', () => {
    setSeed(4);
    const r = run(() =>
      plate('N', 4, () => {
        sample('p', new D.Dirichlet([1, 2, 3]));
        sample('w', new D.Normal(tf.zeros([4, 2]), 1).toEvent(1));
      }),
    );
    expect(r.shapes.p).toEqual([4, 3]);
    expect(r.shapes.w).toEqual([4, 2]);
  });

  it('a [3, 2] batch inside one plate of 3 at dim -1 names the site and suggests toEvent(1)', () => {
    expectSiteError(
      () => plate('N', 3, () => sample('w', new D.Normal(tf.zeros([3, 2]), 1))),
      'w',
      /toEvent\(1\)/,
    );
  });

  it('expand to the plate size works; expand to another size is refused naming the site', () => {
    setSeed(5);
    const r = run(() => plate('K', 3, () => sample('z', new D.Normal(0, 1).expand([3]))));
    expect(r.shapes.z).toEqual([3]);
    expectSiteError(() => plate('K', 3, () => sample('z2', new D.Normal(0, 1).expand([2]))), 'z2');
  });

  it('a masked observed site in a plate counts only the unmasked members', () => {
    const y = [0.3, -1.2, 2.0, 0.7];
    const m = [true, false, true, false];
    const r = run(() =>
      plate('data', 4, () =>
        sample('y', new D.Normal(0.1, 1.5).mask(tf.tensor1d(m, 'bool')), { obs: tf.tensor1d(y) }),
      ),
    );
    const want = y.reduce((s, v, i) => s + (m[i] ? normLp(v, 0.1, 1.5) : 0), 0);
    expect(Math.abs(r.logp - want)).toBeLessThan(1e-4);
  });

  it('an expanded, event-declared and masked site in nested plates: [2, 3] of events of 2', () => {
    setSeed(6);
    const mk = (): D.Distribution =>
      new D.Normal(tf.zeros([2]), 1)
        .toEvent(1)
        .expand([2, 3])
        .mask(
          tf.tensor2d(
            [
              [1, 1, 0],
              [0, 1, 1],
            ],
            [2, 3],
            'bool',
          ),
        );
    const r = run(() => plate('c', 3, () => plate('r', 2, () => sample('v', mk()))));
    expect(r.shapes.v).toEqual([2, 3, 2]);
    const vals = r.values.v!;
    const mask = [1, 1, 0, 0, 1, 1];
    let want = 0;
    for (let i = 0; i < 6; i++) {
      if (mask[i]) want += normLp(vals[2 * i]!) + normLp(vals[2 * i + 1]!);
    }
    expect(Math.abs(r.logp - want)).toBeLessThan(1e-3);
  });
});

describe('audit14: subsampling scales exactly', () => {
  it('subsampleSize: distinct indices in range, the site sized to the subsample, scale size/subsampleSize', () => {
    setSeed(7);
    const data = Array.from({ length: 50 }, (_, i) => Math.sin(i) * 2);
    const yAll = tf.tensor1d(data);
    let idx: number[] = [];
    const r = run(() =>
      plate('data', 50, { subsampleSize: 8 }, (ind) => {
        idx = Array.from(ind.dataSync());
        const y = tf.gather(yAll, ind);
        sample('y', new D.Normal(0.2, 1.3), { obs: y });
      }),
    );
    expect(idx.length).toBe(8);
    expect(new Set(idx).size).toBe(8);
    idx.forEach((i) => expect(i >= 0 && i < 50 && Number.isInteger(i)).toBe(true));
    expect(r.shapes.y).toEqual([8]);
    expect(r.scales.y).toBeCloseTo(50 / 8, 10);
    const want = (50 / 8) * idx.reduce((s, i) => s + normLp(data[i]!, 0.2, 1.3), 0);
    expect(Math.abs(r.logp - want)).toBeLessThan(1e-3 * Math.abs(want));
    yAll.dispose();
  });

  it('explicit subsample indices and nested subsampled plates multiply their scales', () => {
    const r = run(() =>
      plate('outer', 10, { subsample: [1, 4, 9] }, () =>
        plate('inner', 6, { subsample: [0, 5], dim: -2 }, () =>
          sample('y', new D.Normal(0, 1), { obs: tf.zeros([2, 3]) }),
        ),
      ),
    );
    expect(r.scales.y).toBeCloseTo((10 / 3) * (6 / 2), 8);
    expect(Math.abs(r.logp - (10 / 3) * 3 * 6 * normLp(0))).toBeLessThan(1e-3);
  });

  it('a latent site in a subsampled plate is drawn at the subsample size', () => {
    setSeed(8);
    const r = run(() =>
      plate('units', 100, { subsampleSize: 5 }, () => sample('u', new D.Gamma(2, 1))),
    );
    expect(r.shapes.u).toEqual([5]);
    expect(r.scales.u).toBeCloseTo(20, 8);
  });

  it('the subsample scale carries into the ELBO: SVI loss matches the scaled log-likelihood', () => {
    // a model with no latent site: the loss is -(N/n) sum log p(y_i) exactly
    setSeed(9);
    const data = Array.from({ length: 40 }, (_, i) => Math.cos(i));
    const yAll = tf.tensor1d(data);
    const idx = [3, 10, 22, 39];
    const model = (): void =>
      plate('data', 40, { subsample: idx }, (ind) => {
        sample('y', new D.Normal(0, 2), { obs: tf.gather(yAll, ind) });
      });
    const elbo = new ppl.TraceELBO();
    const before = tf.memory().numTensors;
    const loss = elbo.loss(model, () => {});
    expect(tf.memory().numTensors).toBe(before);
    const want = -(40 / 4) * idx.reduce((s, i) => s + normLp(data[i]!, 0, 2), 0);
    expect(Math.abs(loss - want)).toBeLessThan(1e-3 * Math.abs(want));
    yAll.dispose();
  });
});

describe('audit14: factor and reparam inside plates', () => {
  it('factor inside a plate adds its vector of log-weights; inside a subsampled plate it is scaled', () => {
    const r = run(() => plate('p', 3, () => factor('f', tf.tensor1d([0.5, -1, 2]))));
    expect(Math.abs(r.logp - 1.5)).toBeLessThan(1e-5);
    const r2 = run(() =>
      plate('p', 12, { subsample: [0, 1, 2] }, () => factor('f', tf.tensor1d([0.5, -1, 2]))),
    );
    expect(Math.abs(r2.logp - 4 * 1.5)).toBeLessThan(1e-4);
  });

  it('LocScaleReparam(0) inside a plate: decentred site of the plate shape, theta = mu + tau * dec', () => {
    setSeed(10);
    const model = (): void => {
      const mu = sample('mu', new D.Normal(0, 5));
      const tau = sample('tau', new D.HalfCauchy(5));
      plate('J', 8, () => sample('theta', new D.Normal(mu, tau)));
    };
    const nc = ppl.reparam(model, { theta: new ppl.LocScaleReparam(0) });
    const r = run(nc);
    expect(r.shapes.theta).toEqual([8]);
    const decName = Object.keys(r.shapes).find((k) => k.startsWith('theta') && k !== 'theta')!;
    expect(decName).toBeDefined();
    expect(r.shapes[decName]).toEqual([8]);
    const mu = r.values.mu![0]!;
    const tau = r.values.tau![0]!;
    r.values.theta!.forEach((t, i) => expect(t).toBeCloseTo(mu + tau * r.values[decName]![i]!, 3));
    // the density is of the decentred N(0, 1) draws (no Jacobian of theta), plus the priors
    const dec = r.values[decName]!;
    const want =
      normLp(mu, 0, 5) +
      Math.log(2 / (Math.PI * 5 * (1 + (tau / 5) ** 2))) +
      dec.reduce((s, x) => s + normLp(x), 0);
    expect(Math.abs(r.logp - want)).toBeLessThan(2e-3);
  });

  it('TransformReparam inside a plate: the base site has the plate shape and x = exp(base)', () => {
    setSeed(11);
    const model = (): void => {
      plate('K', 5, () =>
        sample('x', new D.TransformedDistribution(new D.Normal(0.3, 0.8), [new bijectors.Exp()])),
      );
    };
    const r = run(ppl.reparam(model, { x: new ppl.TransformReparam() }));
    expect(r.shapes.x).toEqual([5]);
    const baseName = Object.keys(r.shapes).find((k) => k.startsWith('x') && k !== 'x')!;
    expect(r.shapes[baseName]).toEqual([5]);
    r.values.x!.forEach((x, i) => expect(x).toBeCloseTo(Math.exp(r.values[baseName]![i]!), 3));
    const want = r.values[baseName]!.reduce((s, b) => s + normLp(b, 0.3, 0.8), 0);
    expect(Math.abs(r.logp - want)).toBeLessThan(1e-3);
  });
});

describe('audit14: bad plate arguments are ArgumentErrors naming the argument', () => {
  const noop = (): void => {};
  const cases = [
    { call: 'size 0', run: () => plate('p', 0, noop), arg: 'size' },
    { call: 'size 2.5', run: () => plate('p', 2.5, noop), arg: 'size' },
    { call: 'dim 0', run: () => plate('p', 3, { dim: 0 }, noop), arg: 'dim' },
    { call: 'dim -1.5', run: () => plate('p', 3, { dim: -1.5 }, noop), arg: 'dim' },
    {
      call: 'unknown option',
      run: () => plate('p', 3, { dims: -1 } as never, noop),
      arg: /dims|options/,
    },
    {
      call: 'subsample index out of range',
      run: () => plate('p', 3, { subsample: [0, 3] }, noop),
      arg: 'subsample',
    },
    {
      call: 'subsampleSize above size',
      run: () => plate('p', 3, { subsampleSize: 4 }, noop),
      arg: 'subsampleSize',
    },
    {
      call: 'subsampleSize 0',
      run: () => plate('p', 3, { subsampleSize: 0 }, noop),
      arg: 'subsampleSize',
    },
    {
      call: 'two plates on one dim',
      run: () => plate('a', 2, { dim: -1 }, () => plate('b', 3, { dim: -1 }, noop)),
      arg: 'dim',
    },
    {
      call: 'same plate name nested',
      run: () => plate('a', 2, () => plate('a', 2, noop)),
      arg: 'name',
    },
    { call: 'empty name', run: () => plate('', 2, noop), arg: 'name' },
  ];
  for (const c of cases) it(c.call, () => expectBadInput(c));
});
