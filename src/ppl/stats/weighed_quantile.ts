/**
 * Quantiles of weighted draws (Pyro's `pyro.ops.stats.weighed_quantile`, e.g. of importance
 * samples). With the draws sorted, `x_(1) ≤ ... ≤ x_(N)`, their normalized weights
 * `w_i = exp(ℓ_i - logsumexp ℓ)` in that order, the cumulative weights `c_i = Σ_{j ≤ i} w_(j)`
 * rescaled to `[0, 1]`:
 *
 * $$c'_i = \frac{c_i - c_1}{c_N - c_1}, \qquad Q(p) = x_{(i)} + \frac{p - c'_i}{c'_{i+1} - c'_i}
 *   \bigl(x_{(i+1)} - x_{(i)}\bigr) \text{ for } c'_i \le p \le c'_{i+1}$$
 *
 * With equal weights `c'_i = (i - 1)/(N - 1)`: the linearly interpolated sample quantile (NumPy's
 * default, `stats.quantile`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { assembleRows, checkTensor, columnsOf } from './columns.js';

/** The weighted quantile of one column at `p` (see the module comment). */
function weighedColumn(x: Float64Array, w: Float64Array, p: number): number {
  const n = x.length;
  if (n === 1) return x[0] as number;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (x[a] as number) - (x[b] as number),
  );
  const c = new Float64Array(n);
  let s = 0;
  order.forEach((o, i) => {
    s += w[o] as number;
    c[i] = s;
  });
  const lo = c[0] as number;
  const span = (c[n - 1] as number) - lo;
  for (let i = 0; i < n; i++) c[i] = span > 0 ? ((c[i] as number) - lo) / span : i / (n - 1);
  // first i with c'_i > p (Pyro: indices_above = #{c' <= p}, clamped), interpolate below it
  let above = 0;
  while (above < n && (c[above] as number) <= p) above++;
  above = Math.min(above, n - 1);
  const below = Math.max(above - 1, 0);
  const xb = x[order[below] as number] as number;
  const xa = x[order[above] as number] as number;
  const cb = c[below] as number;
  const ca = c[above] as number;
  if (ca === cb) return xa;
  const t = (ca - p) / (ca - cb);
  return t * xb + (1 - t) * xa;
}

/**
 * Quantiles at `probs` of the draws `input` along `dim`, weighted by `logWeights` (one log-weight
 * per draw, unnormalized): shape of `input` with `dim` of size `probs.length` (a new tensor).
 * @param input the draws. @param probs levels in [0, 1].
 * @param logWeights `[N]` log-weights of the draws along `dim` (a tensor or numbers).
 * @param dim the draws' axis (default 0).
 * @throws ArgumentError naming `input`, `probs`, `logWeights` or `dim`.
 * @example
 * ```ts
 * const x = tf.tensor2d([[10, 50, 40], [20, 30, 0]]);
 * weighedQuantile(x, [0.2, 0.8], tf.log(tf.tensor1d([0.4, 0.5, 0.1])), -1);
 * // [[40.4, 47.6], [9, 26.4]]
 * ```
 */
export function weighedQuantile(
  input: tf.Tensor,
  probs: number[],
  logWeights: tf.Tensor | ArrayLike<number>,
  dim = 0,
): tf.Tensor {
  checkTensor(input, 'input');
  if (
    !Array.isArray(probs) ||
    probs.length === 0 ||
    probs.some((p) => typeof p !== 'number' || !(p >= 0 && p <= 1))
  ) {
    throw new ArgumentError(
      'probs',
      `expected a non-empty array of levels in [0, 1], got ${String(probs)}`,
    );
  }
  const { cols, rest, ax, n } = columnsOf(input, dim, 'input');
  let lw: ArrayLike<number>;
  if (logWeights instanceof tf.Tensor) {
    checkTensor(logWeights, 'logWeights');
    if (logWeights.rank !== 1) {
      throw new ArgumentError(
        'logWeights',
        `expected a 1-D tensor [${n}], got [${logWeights.shape}]`,
      );
    }
    lw = logWeights.dataSync();
  } else lw = logWeights;
  if (lw === null || typeof lw !== 'object' || lw.length !== n) {
    throw new ArgumentError(
      'logWeights',
      `expected ${n} log-weights (one per draw along dim ${ax}), got ${lw === null || typeof lw !== 'object' ? String(lw) : lw.length}`,
    );
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = lw[i] as number;
    if (Number.isNaN(v) || v === Infinity) {
      throw new ArgumentError(
        'logWeights',
        `expected finite log-weights or -Infinity, got ${v} at ${i}`,
      );
    }
    max = Math.max(max, v);
  }
  if (max === -Infinity)
    throw new ArgumentError('logWeights', 'expected a draw of positive weight');
  const w = Float64Array.from({ length: n }, (_, i) => Math.exp((lw[i] as number) - max));
  const total = w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) w[i] = (w[i] as number) / total;
  const rows = probs.map((p) => Float64Array.from(cols, (c) => weighedColumn(c, w, p)));
  return assembleRows(rows, rest, ax);
}
