/**
 * The per-iteration statistics of an MCMC run's kept iterations as tensors (NumPyro's
 * `get_extra_fields(group_by_chain=...)`): for `M` chains of `K` kept iterations each, field `f`
 * of chain `c`, iteration `i` at row-major index `c K + i` of `[M K]` (chain 0 first), or at
 * `[c, i]` of `[M, K]` grouped by chain, as the draws of `getSamples`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, checkOptionKeys } from '../../utils/options.js';
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
 * NumPyro's names of the extra fields (the keys of its `get_extra_fields()`, given to its
 * `run(..., extra_fields=...)`) and the field of {@link EXTRA_FIELDS} each one is:
 * `diverging` = `divergent`, `accept_prob` = `acceptStat`, `adapt_state.step_size` = `stepSize`,
 * `num_steps` = `numSteps`, `energy`, `potential_energy` = `potentialEnergy`.
 */
export const NUMPYRO_EXTRA_FIELDS: Readonly<Record<string, ExtraField>> = {
  diverging: 'divergent',
  accept_prob: 'acceptStat',
  'adapt_state.step_size': 'stepSize',
  num_steps: 'numSteps',
  energy: 'energy',
  potential_energy: 'potentialEnergy',
};

/** The options of `MCMC.getExtraFields`. */
export interface ExtraFieldsOptions {
  /** `[numChains, kept]` tensors rather than `[numChains * kept]`. Default false. */
  groupByChain?: boolean;
  /**
   * The fields to return, by our names ({@link EXTRA_FIELDS}) or NumPyro's
   * ({@link NUMPYRO_EXTRA_FIELDS}: `diverging`, `accept_prob`, `num_steps`, `potential_energy`,
   * ...), each under the name given. Default: every field of {@link EXTRA_FIELDS}.
   */
  fields?: readonly string[];
}

/**
 * Check `getExtraFields`' options (before any work): `groupByChain`, and `fields` as
 * `[key, field]` pairs (every field of {@link EXTRA_FIELDS} under its name when not given).
 * @throws ArgumentError naming the option (an unknown field name lists the known ones).
 */
export function extraFieldsOptions(options: unknown): {
  group: boolean;
  fields: [string, ExtraField][];
} {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `expected {groupByChain?, fields?}, got ${String(options)}`);
  }
  const o = options as ExtraFieldsOptions;
  checkOptionKeys(o, ['groupByChain', 'fields'], 'getExtraFields');
  const group = booleanOption(o.groupByChain, 'groupByChain', false);
  if (o.fields === undefined) return { group, fields: EXTRA_FIELDS.map((f) => [f, f]) };
  if (!Array.isArray(o.fields)) {
    throw new ArgumentError('fields', `expected an array of field names, got ${String(o.fields)}`);
  }
  const known = [...EXTRA_FIELDS, ...Object.keys(NUMPYRO_EXTRA_FIELDS)];
  const fields = (o.fields as unknown[]).map((k): [string, ExtraField] => {
    const f =
      typeof k !== 'string'
        ? undefined
        : (EXTRA_FIELDS as readonly string[]).includes(k)
          ? (k as ExtraField)
          : Object.hasOwn(NUMPYRO_EXTRA_FIELDS, k)
            ? NUMPYRO_EXTRA_FIELDS[k]
            : undefined;
    if (f === undefined) {
      throw new ArgumentError(
        'fields',
        `getExtraFields: unknown extra field ${JSON.stringify(k)}; expected one of ${known.join(', ')}`,
      );
    }
    return [k as string, f];
  });
  return { group, fields };
}

/**
 * The fields of {@link EXTRA_FIELDS} of `stats` (one per chain, `kept` iterations each) as new
 * tensors (see the module docs), each under its key of `fields` (default: every field under its
 * name): `divergent` `bool`, `treeDepth` and `numSteps` `int32`, the rest `float32`.
 */
export function extraFieldTensors(
  stats: readonly ChainStats[],
  numChains: number,
  kept: number,
  groupByChain: boolean,
  fields: readonly (readonly [string, ExtraField])[] = EXTRA_FIELDS.map((f) => [f, f]),
): Record<string, tf.Tensor> {
  const nc = numChains;
  const ns = kept;
  const shape = groupByChain ? [nc, ns] : [nc * ns];
  const out: Record<string, tf.Tensor> = {};
  for (const [key, f] of fields) {
    if (f === 'divergent') {
      const a = new Uint8Array(nc * ns);
      stats.forEach((s, c) => s.divergent.forEach((d, i) => (a[c * ns + i] = d ? 1 : 0)));
      out[key] = tf.tensor(a, shape, 'bool');
    } else {
      const int = f === 'treeDepth' || f === 'numSteps';
      const a = int ? new Int32Array(nc * ns) : new Float32Array(nc * ns);
      stats.forEach((s, c) => a.set(s[f].subarray(0, ns), c * ns));
      out[key] = tf.tensor(a, shape, int ? 'int32' : 'float32');
    }
  }
  return out;
}
