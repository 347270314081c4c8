/**
 * The robustness sweep, part 1 (shapes, support, wrappers, memory) over every family of
 * `sweep_cases.ts`, scalar and batched (`[]`, `[3]`, `[2, 3]` and the empty batch `[0]`):
 * draws of sample shapes `[]`, `[0]`, `[2, 0]`, `[4]` have shape `sample + batch + event`;
 * `logProb` of draws is finite with shape `sample + batch`, also for empty draws and for a value
 * broadcast against the batch; values outside the support give `-Infinity` (scalar families) or an
 * `ArgumentError` naming `value` (event families, validation on); `expand`, `toEvent(1)` and
 * `mask(false)` agree with the base; no call leaves a tensor behind.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, clearSeed, distributions, setSeed } from '../../src/index.js';
import { SWEEP, freeMade, tile, type Nested, type SweepRow } from './sweep_cases.js';

type Dist = distributions.Distribution;

afterEach(() => clearSeed());

/** Run `fn` and check that it leaves exactly the tensor it returns (which is read and freed). */
function run(fn: () => tf.Tensor): { shape: number[]; data: number[] } {
  const before = tf.memory().numTensors;
  const t = fn();
  const out = { shape: t.shape, data: Array.from(t.dataSync()) };
  t.dispose();
  expect(tf.memory().numTensors, 'tensors leaked').toBe(before);
  return out;
}

/** Build the row's distribution, run `body`, dispose it, and check nothing was left. */
function withDist(row: SweepRow, batch: number[], body: (dist: Dist) => void): void {
  const before = tf.memory().numTensors;
  const dist = row.make(batch);
  try {
    body(dist);
  } finally {
    dist.dispose();
    freeMade();
  }
  expect(tf.memory().numTensors, 'tensors left after dispose').toBe(before);
}

const BATCHES: number[][] = [[], [3], [2, 3], [0]];

const cases = SWEEP.flatMap((row) =>
  BATCHES.filter((b) => row.scalarOnly === undefined || b.length === 0).map((batch) => ({
    row,
    batch,
    title: `${row.name} batch [${batch.join(',')}]`,
  })),
);

describe.each(cases)('$title', ({ row, batch }) => {
  it('has the batch shape it was built with', () => {
    withDist(row, batch, (dist) => expect(dist.batchShape).toEqual(batch));
  });

  it.skipIf(row.noSample !== undefined)(
    'draws sample + batch + event shapes, also empty ones (sample and rsample)',
    () => {
      setSeed(1);
      withDist(row, batch, (dist) => {
        const ev = dist.eventShape;
        for (const s of [[], [0], [2, 0], [4], [0, 2]]) {
          expect(run(() => dist.sample(s)).shape, `sample([${s.join(',')}])`).toEqual([
            ...s,
            ...batch,
            ...ev,
          ]);
          if (dist.hasRsample) {
            expect(run(() => dist.rsample(s)).shape, `rsample([${s.join(',')}])`).toEqual([
              ...s,
              ...batch,
              ...ev,
            ]);
          }
        }
        // a draw after empty draws still works (a wasm trap showed only on the next call)
        const x = run(() => dist.sample([2]));
        expect(x.data.every((v) => Number.isFinite(v))).toBe(true);
      });
    },
  );

  it.skipIf(row.noSample !== undefined)(
    'logProb of draws is finite with shape sample + batch, also for empty draws',
    () => {
      setSeed(2);
      withDist(row, batch, (dist) => {
        for (const s of [[4], [0], [2, 0], []]) {
          const x = dist.sample(s);
          try {
            const lp = run(() => dist.logProb(x));
            expect(lp.shape, `logProb of sample([${s.join(',')}])`).toEqual([...s, ...batch]);
            expect(
              lp.data.every((v) => Number.isFinite(v)),
              `finite: ${lp.data.slice(0, 6).join(',')}`,
            ).toBe(true);
          } finally {
            x.dispose();
          }
        }
      });
    },
  );

  it.skipIf(row.noSample !== undefined || batch.length === 0 || batch.includes(0))(
    'logProb broadcasts a value against the batch',
    () => {
      setSeed(3);
      withDist(row, batch, (dist) => {
        const ev = dist.eventShape;
        const x = dist.sample([2]);
        // the first batch entry only: shape [2, 1, ...batch[1:], ...event]
        const x1 = tf.slice(x, 0, [2, 1, ...x.shape.slice(2)]);
        const full = tf.broadcastTo(x1, [2, ...batch, ...ev]);
        try {
          const lp = run(() => dist.logProb(x1));
          expect(lp.shape).toEqual([2, ...batch]);
          const ref = run(() => dist.logProb(full));
          expect(lp.data).toBeAllclose(ref.data, { rtol: 1e-5, atol: 1e-5 });
        } finally {
          tf.dispose([x, x1, full]);
        }
      });
    },
  );

  it.skipIf(row.outside === undefined || batch.includes(0))(
    'a value outside the support gives -Infinity (scalar) or an ArgumentError (event)',
    () => {
      withDist(row, batch, (dist) => {
        const out = row.outside as Nested;
        const value = tile(batch, out) as number[];
        if (dist.eventShape.length === 0) {
          const lp = run(() => dist.logProb(value));
          expect(lp.shape).toEqual(batch);
          expect(
            lp.data.every((v) => v === -Infinity),
            `got ${lp.data.join(',')}`,
          ).toBe(true);
        } else {
          const before = tf.memory().numTensors;
          expect(() => dist.logProb(value)).toThrow(ArgumentError);
          expect(tf.memory().numTensors).toBe(before);
        }
      });
    },
  );

  it.skipIf(row.noSample !== undefined)('expand([5, ...batch]) scores as the base', () => {
    setSeed(4);
    withDist(row, batch, (dist) => {
      const before = tf.memory().numTensors;
      const e = dist.expand([5, ...batch]);
      expect(e.batchShape).toEqual([5, ...batch]);
      const x = e.sample();
      try {
        expect(x.shape).toEqual([5, ...batch, ...dist.eventShape]);
        const lp = run(() => e.logProb(x));
        expect(lp.shape).toEqual([5, ...batch]);
        const ref = run(() => dist.logProb(x));
        expect(lp.data).toBeAllclose(ref.data, { rtol: 1e-6, atol: 1e-6 });
      } finally {
        x.dispose();
        e.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it.skipIf(row.noSample !== undefined || batch.length === 0)(
    'toEvent(1) sums logProb over the last batch dim; mask(false) gives 0',
    () => {
      setSeed(5);
      withDist(row, batch, (dist) => {
        const before = tf.memory().numTensors;
        const ind = dist.toEvent(1);
        const masked = dist.mask(false);
        const x = dist.sample([2]);
        try {
          expect(ind.batchShape).toEqual(batch.slice(0, -1));
          const lp = run(() => ind.logProb(x));
          expect(lp.shape).toEqual([2, ...batch.slice(0, -1)]);
          const ref = run(() => tf.tidy(() => tf.sum(dist.logProb(x), -1)));
          expect(lp.data).toBeAllclose(ref.data, { rtol: 1e-5, atol: 1e-5 });
          const m = run(() => masked.logProb(x));
          expect(m.shape).toEqual([2, ...batch]);
          expect(m.data.every((v) => v === 0)).toBe(true);
        } finally {
          x.dispose();
          ind.dispose();
          masked.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
      });
    },
  );
});

/** The families with a `cdf` and an `icdf` (scalar events), batch `[3]`. */
const cdfRows = SWEEP.filter((row) => {
  if (row.noSample !== undefined) return false;
  const dist = row.make([3]);
  let ok = false;
  try {
    if (dist.eventShape.length === 0) {
      const c = dist.cdf(0.5);
      const q = dist.icdf(0.5);
      tf.dispose([c, q]);
      ok = true;
    }
  } catch {
    ok = false;
  } finally {
    dist.dispose();
    freeMade();
  }
  return ok;
});

describe.each(cdfRows)('$name cdf/icdf', (row) => {
  it('cdf of draws lies in [0, 1]; icdf(cdf(x)) = x (continuous); empty values give empty results', () => {
    setSeed(6);
    withDist(row, [3], (dist) => {
      const x = dist.sample([5]);
      try {
        const c = run(() => dist.cdf(x));
        expect(c.shape).toEqual([5, 3]);
        expect(
          c.data.every((v) => v >= 0 && v <= 1),
          `cdf ${c.data.slice(0, 6).join(',')}`,
        ).toBe(true);
        if (row.continuous) {
          const back = run(() =>
            tf.tidy(() => dist.icdf(tf.clipByValue(dist.cdf(x), 1e-6, 1 - 1e-6))),
          );
          const xv = Array.from(x.dataSync());
          const cv = c.data;
          // compare where the cdf is not flat in float32 (away from the tails)
          xv.forEach((v, i) => {
            if (cv[i]! > 1e-3 && cv[i]! < 1 - 1e-3) {
              expect(Math.abs(back.data[i]! - v), `icdf(cdf(${v}))`).toBeLessThanOrEqual(
                2e-3 * (1 + Math.abs(v)),
              );
            }
          });
        }
      } finally {
        x.dispose();
      }
      for (const f of ['cdf', 'logCdf', 'survival', 'logSurvival', 'icdf'] as const) {
        const out = run(() => tf.tidy(() => dist[f](tf.zeros([0, 3]))));
        expect(out.shape, f).toEqual([0, 3]);
      }
    });
  });
});

/**
 * The scalar families (event shape `[]`) of the table at batch `[3]`, for the limits at infinite
 * values. `MaskedDistribution` rows are left to `infinite_values.test.ts` (a masked-out entry
 * scores 0 whatever its value).
 */
const scalarRows = SWEEP.filter((row) => {
  const dist = row.make([3]);
  try {
    return dist.eventShape.length === 0 && !(dist instanceof distributions.MaskedDistribution);
  } finally {
    dist.dispose();
    freeMade();
  }
});

/** The value methods of the cdf family with their limits at `[-inf, +inf]`. */
const CDF_LIMITS = {
  cdf: [0, 1],
  logCdf: [-Infinity, 0],
  survival: [1, 0],
  logSurvival: [0, -Infinity],
} as const;

/** Whether `dist` has a cdf (the base throws a NotDefinedError otherwise). */
function hasCdf(dist: Dist): boolean {
  try {
    tf.dispose(dist.cdf(0.5));
    return true;
  } catch {
    return false;
  }
}

describe.each(scalarRows)('$name at infinite values', (row) => {
  // rows 0..2: -inf, +inf, NaN (broadcast over the batch); row 3: a finite draw
  const special = [[-Infinity], [Infinity], [NaN]];

  it('logProb(±inf) = -inf, prob = 0, NaN stays NaN; finite entries as without them', () => {
    setSeed(7);
    withDist(row, [3], (dist) => {
      const draw = row.noSample === undefined ? dist.sample([1]) : tf.fill([1, 3], 0.5);
      const value = tf.tidy(() => tf.concat([tf.broadcastTo(tf.tensor2d(special), [3, 3]), draw]));
      try {
        const lp = run(() => dist.logProb(value));
        expect(lp.shape).toEqual([4, 3]);
        const got = lp.data;
        expect(
          got.slice(0, 6).every((v) => v === -Infinity),
          `±inf: ${got.slice(0, 6)}`,
        ).toBe(true);
        expect(
          got.slice(6, 9).every((v) => Number.isNaN(v)),
          `NaN: ${got.slice(6, 9)}`,
        ).toBe(true);
        const alone = run(() => dist.logProb(draw));
        expect(got.slice(9)).toBeAllclose(alone.data, { rtol: 1e-6, atol: 1e-6 });
        const p = run(() => dist.prob(value));
        expect(p.data.slice(0, 6).every((v) => v === 0)).toBe(true);
        expect(p.data.slice(6, 9).every((v) => Number.isNaN(v))).toBe(true);
      } finally {
        tf.dispose([draw, value]);
      }
    });
  });

  it('cdf, logCdf, survival, logSurvival tend to their limits at ±inf (where defined)', () => {
    withDist(row, [3], (dist) => {
      if (!hasCdf(dist)) return;
      for (const [m, [lo, hi]] of Object.entries(CDF_LIMITS)) {
        const f = m as keyof typeof CDF_LIMITS;
        const out = run(() => dist[f](special));
        expect(out.shape, m).toEqual([3, 3]);
        expect(out.data.slice(0, 3), `${m}(-inf)`).toEqual([lo, lo, lo]);
        expect(out.data.slice(3, 6), `${m}(+inf)`).toEqual([hi, hi, hi]);
        expect(
          out.data.slice(6).every((v) => Number.isNaN(v)),
          `${m}(NaN)`,
        ).toBe(true);
      }
    });
  });

  it.skipIf(!row.continuous)('the gradient in the value at ±inf is 0, not NaN', () => {
    withDist(row, [3], (dist) => {
      const value = tf.tensor2d([[-Infinity], [Infinity]]);
      try {
        const methods = hasCdf(dist)
          ? (['logProb', 'cdf', 'logSurvival'] as const)
          : ['logProb' as const];
        for (const m of methods) {
          const g = run(() => tf.grad((x: tf.Tensor) => tf.sum(dist[m](x)))(value));
          expect(
            g.data.every((v) => v === 0),
            `${m}: ${g.data.join(',')}`,
          ).toBe(true);
        }
      } finally {
        value.dispose();
      }
    });
  });

  it.skipIf(row.grad === undefined)(
    'the gradients in the parameters at ±inf are 0, not NaN (logProb and the cdf family)',
    () => {
      const { theta, build } = row.grad!;
      const before = tf.memory().numTensors;
      const params = theta.map((t) => tf.scalar(t));
      const value = tf.tensor1d([-Infinity, Infinity]);
      try {
        // (tidy: a builder may make tensors of its own, e.g. a stack of the parameters)
        const cdf = tf.tidy(() => {
          const probe = build(params);
          try {
            return hasCdf(probe);
          } finally {
            probe.dispose();
            freeMade();
          }
        });
        const methods = cdf
          ? (['logProb', 'cdf', 'logCdf', 'survival', 'logSurvival'] as const)
          : ['logProb' as const];
        for (const m of methods) {
          const grads = tf.grads((...ps: tf.Tensor[]) => {
            const dist = build(ps);
            try {
              const out = dist[m](value);
              return tf.sum(tf.where(tf.isFinite(out), out, 0));
            } finally {
              dist.dispose();
              freeMade();
            }
          })(params);
          const gs = grads.map((g) => g.dataSync()[0]);
          tf.dispose(grads);
          expect(
            gs.every((v) => v === 0),
            `${m}: d/dtheta at ±inf ${gs.join(',')}`,
          ).toBe(true);
        }
      } finally {
        tf.dispose([...params, value]);
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
