/**
 * Intervals from draws along one axis (NumPyro's `hpdi`, Pyro's `ops.stats.quantile`/`hpdi`):
 *
 * - `quantiles(x, probs)`: the sample quantiles with linear interpolation (Hyndman & Fan type 7,
 *   NumPy's default): with `x_(1) ≤ ... ≤ x_(n)` and `h = (n - 1) p`,
 *   `Q(p) = x_(⌊h⌋+1) + (h - ⌊h⌋)(x_(⌊h⌋+2) - x_(⌊h⌋+1))`;
 * - `hpdi(x, prob)`: the narrowest interval holding a fraction `prob` of the draws, between two
 *   draws `m = ⌊prob · n⌋` apart in sorted order:
 *   `[x_(i*), x_(i*+m)]`, `i* = argmin_i (x_(i+m) - x_(i))` (the first on ties). For a unimodal
 *   density it estimates the highest-posterior-density interval.
 *
 * Both work per element of the other axes, in float64 on the host.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { hpdiSorted, quantile } from '../mcmc/diagnostics.js';

/** Move `axis` to the front; sorted columns and the shape of the rest. */
function sortedColumns(
  samples: tf.Tensor,
  axis: number,
): { cols: Float64Array[]; rest: number[]; ax: number } {
  if (!(samples instanceof tf.Tensor) || samples.isDisposed || samples.rank < 1) {
    throw new ArgumentError('samples', 'expected a live tensor with at least one dimension');
  }
  if (!Number.isInteger(axis) || axis < -samples.rank || axis >= samples.rank) {
    throw new ArgumentError(
      'axis',
      `expected an integer in [${-samples.rank}, ${samples.rank}), got ${String(axis)}`,
    );
  }
  const ax = axis < 0 ? axis + samples.rank : axis;
  const n = samples.shape[ax] as number;
  if (n < 1) throw new ArgumentError('samples', `expected at least one draw along axis ${ax}`);
  const perm = [ax, ...samples.shape.map((_, i) => i).filter((i) => i !== ax)];
  const moved = tf.transpose(samples, perm);
  const v = moved.dataSync();
  const rest = moved.shape.slice(1);
  moved.dispose();
  const size = v.length / n;
  const cols = Array.from({ length: size }, (_, e) => {
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = v[i * size + e] as number;
      if (Number.isNaN(x)) throw new ArgumentError('samples', 'expected no NaN draws');
      c[i] = x;
    }
    return c.sort();
  });
  return { cols, rest, ax };
}

/** `rows[r][e]` as a tensor `[rows.length, ...rest]` with the first axis moved to `ax`. */
function assemble(rows: Float64Array[], rest: number[], ax: number): tf.Tensor {
  return tf.tidy(() => {
    const flat = new Float32Array(rows.length * (rows[0]?.length ?? 0));
    rows.forEach((r, i) => flat.set(r, i * r.length));
    const t = tf.tensor(flat, [rows.length, ...rest]);
    const perm = rest.map((_, i) => i + 1);
    perm.splice(ax, 0, 0);
    return tf.transpose(t, perm);
  });
}

function checkProb(p: unknown, name: string, open: boolean): number {
  const ok = typeof p === 'number' && (open ? p > 0 && p < 1 : p >= 0 && p <= 1);
  if (!ok) {
    throw new ArgumentError(
      name,
      `expected a number in ${open ? '(0, 1)' : '[0, 1]'}, got ${String(p)}`,
    );
  }
  return p;
}

/**
 * Sample quantiles of `samples` along `axis` at the levels `probs`: shape of `samples` with
 * `axis` of size `probs.length` (a new tensor).
 * @param samples draws. @param probs levels in [0, 1]. @param axis the draws' axis (default 0).
 * @throws ArgumentError naming `samples`, `probs` or `axis`.
 */
export function quantiles(samples: tf.Tensor, probs: number[], axis = 0): tf.Tensor {
  if (!Array.isArray(probs) || probs.length === 0) {
    throw new ArgumentError('probs', 'expected a non-empty array of levels in [0, 1]');
  }
  probs.forEach((p) => checkProb(p, 'probs', false));
  const { cols, rest, ax } = sortedColumns(samples, axis);
  const rows = probs.map((p) => Float64Array.from(cols, (c) => quantile(c, p)));
  return assemble(rows, rest, ax);
}

/**
 * The highest posterior density interval of mass `prob` along `axis`: shape of `samples` with
 * `axis` of size 2 (lower, upper) (a new tensor; NumPyro's `hpdi`).
 * @param samples draws. @param prob the mass, in (0, 1) (default 0.9).
 * @param axis the draws' axis (default 0).
 * @throws ArgumentError naming `samples`, `prob` or `axis`.
 */
export function hpdi(samples: tf.Tensor, prob = 0.9, axis = 0): tf.Tensor {
  checkProb(prob, 'prob', true);
  const { cols, rest, ax } = sortedColumns(samples, axis);
  const lower = new Float64Array(cols.length);
  const upper = new Float64Array(cols.length);
  cols.forEach((c, e) => {
    [lower[e], upper[e]] = hpdiSorted(c, prob);
  });
  return assemble([lower, upper], rest, ax);
}
