/**
 * NumPyro's `init_params` for a model (`mcmc.run(key, ..., init_params={site: z})`): the chains
 * start at given values of the model's latent sites in the unconstrained space, the values the
 * potential is a function of (`z = T⁻¹(x)` with `T = bijectTo(site.fn.support)`; for an
 * unconstrained site `z = x`). Each value has the site's unconstrained size `n` (every chain
 * starts there) or `numChains · n` (one row per chain, NumPyro's leading chain dim); sites not
 * named start from the kernel's `initStrategy`. The values are read and checked (finite numbers)
 * when the `MCMC` is built, their sizes against the model's layout when a chain is set up.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import type { LatentSite } from './potential.js';

/** Numbers nested to any depth (a site's value as nested arrays, row-major). */
export type NestedNumbers = number | readonly NestedNumbers[];

/**
 * A model's start: `{site: unconstrained value}` (a number, nested arrays, a `Float64Array` or a
 * tensor; read when the `MCMC` is built).
 */
export type ModelInitParams = Record<string, NestedNumbers | Float64Array | tf.Tensor>;

/** Whether `ip` is the record form ({@link ModelInitParams}) rather than a flat array. */
export function isModelInitParams(ip: unknown): ip is ModelInitParams {
  return (
    ip !== null &&
    typeof ip === 'object' &&
    !Array.isArray(ip) &&
    !ArrayBuffer.isView(ip) &&
    !(ip instanceof tf.Tensor)
  );
}

function flatten(v: unknown, site: string, out: number[]): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) {
      throw new ArgumentError('initParams', `site '${site}': expected finite numbers, got ${v}`);
    }
    out.push(v);
  } else if (Array.isArray(v) || v instanceof Float64Array || v instanceof Float32Array) {
    for (const x of Array.from(v as ArrayLike<unknown>)) flatten(x, site, out);
  } else {
    throw new ArgumentError(
      'initParams',
      `site '${site}': expected a number, nested arrays of numbers or a tensor, got ${String(v)}`,
    );
  }
}

/**
 * Read a model's `initParams` record into one float64 array per site (tensors read, not kept).
 * @throws ArgumentError naming `initParams` (and the site) for a value that is not finite
 *   numbers or a live numeric tensor, or an empty record.
 */
export function readModelInitParams(ip: ModelInitParams): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  const entries = Object.entries(ip).filter(([, v]) => v !== undefined);
  if (entries.length === 0) {
    throw new ArgumentError('initParams', 'expected {site: unconstrained value} with a site');
  }
  for (const [name, v] of entries) {
    const flat: number[] = [];
    if (v instanceof tf.Tensor) {
      if (v.isDisposed || v.dtype === 'string') {
        throw new ArgumentError('initParams', `site '${name}': expected a live numeric tensor`);
      }
      flatten(Array.from(v.dataSync()), name, flat);
    } else {
      flatten(v, name, flat);
    }
    if (flat.length === 0) {
      throw new ArgumentError('initParams', `site '${name}': expected at least one value`);
    }
    out.set(name, Float64Array.from(flat));
  }
  return out;
}

/**
 * Write chain `chain`'s start of the given sites into `z` (the model's flat unconstrained point):
 * site `s` gets its value (size `s.size`) or its row `chain` (size `numChains · s.size`).
 * @throws ArgumentError naming `initParams` for a name that is no continuous latent site or a
 *   value of another size.
 */
export function applyModelInitParams(
  values: Map<string, Float64Array>,
  sites: readonly LatentSite[],
  z: Float64Array,
  chain: number,
  numChains: number,
): void {
  for (const [name, v] of values) {
    const site = sites.find((s) => s.name === name);
    if (site === undefined) {
      throw new ArgumentError(
        'initParams',
        `'${name}' is no continuous latent site of the model (sites: ${sites.map((s) => `'${s.name}'`).join(', ')})`,
      );
    }
    if (v.length === site.size) {
      z.set(v, site.offset);
    } else if (numChains > 1 && v.length === numChains * site.size) {
      z.set(v.subarray(chain * site.size, (chain + 1) * site.size), site.offset);
    } else {
      throw new ArgumentError(
        'initParams',
        `site '${name}': expected its ${site.size} unconstrained value(s) (shape [${site.unconstrainedShape.join(', ')}])${numChains > 1 ? ` or ${numChains} x ${site.size} (one row per chain)` : ''}, got ${v.length}`,
      );
    }
  }
}

/** The values in site-name order, one flat list (the run's fingerprint). */
export function flatModelInitParams(values: Map<string, Float64Array>): number[] {
  return [...values.keys()].sort().flatMap((k) => Array.from(values.get(k) as Float64Array));
}
