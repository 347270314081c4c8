/**
 * A batch of MCMC chains in one run of the model (`chainMethod: 'vectorized'`): the layouts a
 * batch may take (the chains as a plate left of the model's plates, Pyro's
 * `vectorize_particles`, each latent `[chains, 1, ..., 1, ...shape]`; a plain leading chain
 * dimension; one chain at a time), the batched evaluation of `U` and `dU/dz` in a layout, and the
 * agreement `|a - b| ≤ 10⁻³ (1 + |a|)` of a batched evaluation with the per-chain ones that chooses
 * the layout.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { plate } from '../handlers/plate.js';
import { trace } from '../handlers/trace.js';
import type { PotentialPoint } from './integrator.js';
import type { ModelPotential } from './potential.js';
import {
  batchedSiteTensors,
  siteTensors,
  UnconstrainedSubstitute,
  unvalidated,
} from './unconstrained_substitute.js';

/** Name of the plate of vectorized chains (Pyro's `vectorize_particles` plate, for chains). */
const CHAIN_PLATE = '_num_chains_vectorized';

/**
 * How a batch of chains is evaluated: the chain dimension as a plate left of the model's plates
 * (`plate`, with each latent's extra leading `1`s), as a plain leading dimension the model
 * broadcasts over by itself (`leading`), or one chain at a time (`loop`).
 */
export type BatchLayout =
  { kind: 'plate'; nesting: number; pads: number[] } | { kind: 'leading' } | { kind: 'loop' };

/** Whether two potential evaluations agree to float32 accuracy (NaN matching NaN). */
export function samePoint(a: PotentialPoint, b: PotentialPoint): boolean {
  const close = (x: number, y: number): boolean =>
    (Number.isNaN(x) && Number.isNaN(y)) || x === y || Math.abs(x - y) <= 1e-3 * (1 + Math.abs(x));
  return close(a.value, b.value) && a.grad.every((g, i) => close(g, b.grad[i] as number));
}

/**
 * The batched layouts to try, in order: the chain plate (with the model's plate nesting and
 * each latent's padding, read from one unbatched run at `z`), then a plain leading dimension.
 */
export function batchLayouts<A extends unknown[]>(
  p: ModelPotential<A>,
  z: Float64Array,
): BatchLayout[] {
  let nesting = 0;
  const eventRank = new Map<string, number>();
  tf.tidy(() => {
    const parts = siteTensors(z, p.sites);
    const map = new Map(p.sites.map((s, i) => [s.name, { site: s, z: parts[i] as tf.Tensor }]));
    const sub = new UnconstrainedSubstitute(map, false);
    const tr = unvalidated(
      () => trace(() => sub.run(() => p.model(...p.args))).getTraceUntidied().trace,
    );
    for (const s of tr.sites()) {
      for (const f of s.cond) nesting = Math.max(nesting, -f.dim);
      if (s.type === 'sample' && s.fn !== null) eventRank.set(s.name, s.fn.eventShape.length);
    }
  });
  const pads = p.sites.map((s) =>
    Math.max(0, nesting - (s.shape.length - (eventRank.get(s.name) ?? 0))),
  );
  return [{ kind: 'plate', nesting, pads }, { kind: 'leading' }];
}

/** One batched evaluation in `layout` (throws where the model does not batch so). */
export function batchedValueAndGrad<A extends unknown[]>(
  p: ModelPotential<A>,
  zs: Float64Array[],
  layout: BatchLayout,
): PotentialPoint[] {
  const n = zs.length;
  const out: PotentialPoint[] = [];
  let captured: tf.Tensor | undefined;
  try {
    tf.tidy(() => {
      const parts = batchedSiteTensors(
        zs,
        p.sites,
        layout.kind === 'plate' ? layout.pads : undefined,
      );
      const { grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
        const map = new Map(p.sites.map((s, i) => [s.name, { site: s, z: xs[i] as tf.Tensor }]));
        const chainRank = layout.kind === 'plate' ? layout.nesting + 1 : undefined;
        const sub = new UnconstrainedSubstitute(map, true, n, chainRank);
        const run =
          layout.kind === 'plate'
            ? () => plate(CHAIN_PLATE, n, { dim: -(layout.nesting + 1) }, () => p.model(...p.args))
            : () => p.model(...p.args);
        unvalidated(() => sub.run(run));
        let total: tf.Tensor = tf.zeros([n]);
        for (const t of sub.terms) total = tf.add(total, t);
        if (total.rank !== 1 || total.shape[0] !== n) {
          throw new ArgumentError(
            'model',
            `MCMC (vectorized): the log density has shape [${total.shape}], expected [${n}] (one value per chain): the model must broadcast over a leading chain dimension`,
          );
        }
        captured = tf.keep(total);
        return tf.sum(total) as tf.Scalar;
      })(parts);
      const per = (captured as tf.Tensor).dataSync();
      const gs = grads.map((g) => g.dataSync());
      for (let c = 0; c < n; c++) {
        const grad = new Float64Array(p.dim);
        p.sites.forEach((s, i) => {
          const g = gs[i] as ArrayLike<number>;
          for (let k = 0; k < s.size; k++) grad[s.offset + k] = -(g[c * s.size + k] as number);
        });
        out.push({ value: -(per[c] as number), grad });
      }
    });
  } finally {
    captured?.dispose();
  }
  return out;
}
