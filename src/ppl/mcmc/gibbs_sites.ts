/**
 * The Gibbs sites of a Gibbs kernel's model (NumPyro's `_gibbs_sites`): which sites a kernel
 * updates ({@link GibbsSelection}: named ones, or the discrete latents not marked
 * `enumerate: 'parallel'`), each site's place in the flat Gibbs values `z_g` and, for a discrete
 * update, its enumerated support of `K` values; the prior run that finds and checks them (naming
 * the site) and gives their first values; and the handler that conditions the model on the current
 * `z_g` (the sites observed, so scored: `log p(data, z_h, z_g)`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { enumerateSupportTable, isEnumerable } from '../handlers/enum_support.js';
import { seed as seedHandler } from '../handlers/seed.js';
import { trace } from '../handlers/trace.js';
import { Messenger } from '../messenger.js';
import type { Message } from '../runtime.js';
import type { GibbsTarget } from './gibbs_target.js';

/** One Gibbs site's place in the flat Gibbs values (and, for a discrete one, its support). */
export interface GibbsSite {
  name: string;
  /** Shape of its value. */
  shape: number[];
  /** The dtype the model saw in the prior run (kept when the value is given back). */
  dtype: tf.DataType;
  /** First index in the flat Gibbs values. */
  offset: number;
  /** Number of values. */
  size: number;
  /** Values per element (the event size: 1, or `K` for a one-hot vector). */
  eventSize: number;
  /** For a discrete Gibbs update: the `K` support values, `K * eventSize` numbers. */
  support?: Float64Array;
  /** `K` (0 when `support` is absent). */
  numValues: number;
}

/** Which sites a Gibbs kernel updates. */
export type GibbsSelection =
  | { kind: 'named'; names: readonly string[]; who: string }
  | { kind: 'discrete'; names?: readonly string[]; who: string };

/** Conditions the Gibbs sites on the target's current values. @internal */
export class GibbsCondition extends Messenger {
  constructor(private readonly target: GibbsTarget) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample') return;
    const site = this.target.siteByName.get(msg.name);
    if (site === undefined) return;
    const rec = this.target.recordingInputs;
    if (rec !== undefined) {
      msg.value = rec[this.target.gibbsSites.indexOf(site)] as tf.Tensor;
    } else {
      const v = this.target.values.subarray(site.offset, site.offset + site.size);
      msg.value = tf.tensor(
        Float32Array.from(v),
        site.shape,
        site.dtype === 'int32' ? 'int32' : 'float32',
      );
    }
    msg.isObserved = true;
  }
}

/** The Gibbs sites of the model chosen by `sel`, with their prior-run values (see module docs). */
export function gibbsPrototype(
  model: (...a: unknown[]) => unknown,
  args: unknown[],
  sel: GibbsSelection,
  rngSeed: number,
): { sites: GibbsSite[]; values: Float64Array } {
  const sites: GibbsSite[] = [];
  const parts: Float64Array[] = [];
  tf.tidy(() => {
    const tr = trace(seedHandler(model, rngSeed)).getTraceUntidied(...args).trace;
    const all = tr.sampleSites();
    const latent = all.filter((s) => !s.isObserved && s.fn !== null);
    const list = (xs: Message[]): string =>
      xs.length === 0 ? 'none' : xs.map((s) => `'${s.name}'`).join(', ');
    for (const n of sel.names ?? []) {
      const s = all.find((x) => x.name === n);
      if (s === undefined || s.fn === null) {
        throw new ArgumentError(
          'gibbsSites',
          `${sel.who}: '${n}' is not a sample site of the model (its latent sites: ${list(latent)})`,
        );
      }
      if (s.isObserved) {
        throw new ArgumentError(
          'gibbsSites',
          `${sel.who}: site '${n}' is observed, not latent: only latent sites can be Gibbs sites`,
        );
      }
      if (sel.kind === 'discrete' && !s.fn.support.isDiscrete) {
        throw new ArgumentError(
          'gibbsSites',
          `${sel.who}: site '${n}' has the continuous support ${s.fn.support.name}; the discrete Gibbs step updates discrete sites only (leave it to the inner kernel, or use HMCGibbs with a gibbsFn)`,
        );
      }
    }
    const chosen =
      sel.names !== undefined
        ? latent.filter((s) => sel.names?.includes(s.name))
        : latent.filter(
            (s) =>
              (s.fn as NonNullable<Message['fn']>).support.isDiscrete &&
              s.infer.enumerate !== 'parallel',
          );
    if (chosen.length === 0) {
      throw new ArgumentError(
        'model',
        `${sel.who}: the model has no discrete latent site to update (discrete sites marked enumerate: 'parallel' are summed out by the inner kernel); use NUTS or HMC`,
      );
    }
    let offset = 0;
    for (const s of chosen) {
      const fn = s.fn as NonNullable<Message['fn']>;
      const value = s.value as tf.Tensor;
      const eventSize = fn.eventShape.reduce((a, b) => a * b, 1);
      let support: Float64Array | undefined;
      if (sel.kind === 'discrete') {
        if (!isEnumerable(fn)) {
          throw new ArgumentError(
            'model',
            `${sel.who}: discrete latent site '${s.name}' has the support ${fn.support.name} of ${fn.name}, which cannot be enumerated; the discrete Gibbs step (as NumPyro's DiscreteHMCGibbs) updates sites with a finite support only (a boolean, one integer interval, one-hot vectors): bound it (e.g. a Categorical over 0..K), or give it to HMCGibbs with a gibbsFn of your own`,
          );
        }
        support = Float64Array.from(enumerateSupportTable(fn, s.name).dataSync());
      }
      const size = value.size;
      sites.push({
        name: s.name,
        shape: [...value.shape],
        dtype: value.dtype,
        offset,
        size,
        eventSize,
        ...(support === undefined ? {} : { support }),
        numValues: support === undefined ? 0 : support.length / Math.max(1, eventSize),
      });
      parts.push(Float64Array.from(value.dataSync()));
      offset += size;
    }
  });
  const values = new Float64Array(sites.reduce((n, s) => n + s.size, 0));
  parts.forEach((p, i) => values.set(p, (sites[i] as GibbsSite).offset));
  return { sites, values };
}
