/**
 * The per-iteration statistics of an MCMC run's kept iterations as tensors (NumPyro's
 * `get_extra_fields(group_by_chain=...)`): for `M` chains of `K` kept iterations each, field `f`
 * of chain `c`, iteration `i` at row-major index `c K + i` of `[M K]` (chain 0 first), or at
 * `[c, i]` of `[M, K]` grouped by chain, as the draws of `getSamples`.
 */
import * as tf from '@tensorflow/tfjs';
import type { ChainStats } from './chain_loop.js';

/**
 * The per-iteration fields of {@link ChainStats} that `getExtraFields({groupByChain})` returns as
 * tensors (NumPyro's `diverging`, `accept_prob`, step size, tree depth, `num_steps`, `energy`,
 * `potential_energy`).
 */
export const EXTRA_FIELDS = [
  'divergent',
  'acceptStat',
  'stepSize',
  'treeDepth',
  'numSteps',
  'energy',
  'potentialEnergy',
] as const;

/** One of {@link EXTRA_FIELDS}. */
export type ExtraField = (typeof EXTRA_FIELDS)[number];

/**
 * The fields of {@link EXTRA_FIELDS} of `stats` (one per chain, `kept` iterations each) as new
 * tensors (see the module docs): `divergent` `bool`, `treeDepth` and `numSteps` `int32`, the rest
 * `float32`.
 */
export function extraFieldTensors(
  stats: readonly ChainStats[],
  numChains: number,
  kept: number,
  groupByChain: boolean,
): Record<ExtraField, tf.Tensor> {
  const nc = numChains;
  const ns = kept;
  const shape = groupByChain ? [nc, ns] : [nc * ns];
  const out = {} as Record<ExtraField, tf.Tensor>;
  for (const f of EXTRA_FIELDS) {
    if (f === 'divergent') {
      const a = new Uint8Array(nc * ns);
      stats.forEach((s, c) => s.divergent.forEach((d, i) => (a[c * ns + i] = d ? 1 : 0)));
      out[f] = tf.tensor(a, shape, 'bool');
    } else {
      const int = f === 'treeDepth' || f === 'numSteps';
      const a = int ? new Int32Array(nc * ns) : new Float32Array(nc * ns);
      stats.forEach((s, c) => a.set(s[f].subarray(0, ns), c * ns));
      out[f] = tf.tensor(a, shape, int ? 'int32' : 'float32');
    }
  }
  return out;
}
