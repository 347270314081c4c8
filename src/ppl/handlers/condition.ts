/**
 * `condition`: observe sample sites at given values (Pyro's `ConditionMessenger`). The sites
 * become observed: inference scores them instead of sampling them.
 */
import * as tf from '@tensorflow/tfjs';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { checkSiteData } from './handler_args.js';
import type { Message } from '../runtime.js';
import { Trace } from '../trace.js';

/** Fixes named sample sites to data. @internal */
export class ConditionMessenger extends Messenger {
  /**
   * @param data the site values.
   * @param skipDeterministic leave `deterministic` sites to be recomputed (Predictive's default).
   */
  constructor(
    private readonly data: Record<string, tf.Tensor | tf.TensorLike>,
    private readonly skipDeterministic = false,
  ) {
    super();
  }
  override processMessage(msg: Message): void {
    if (msg.type !== 'sample' || !(msg.name in this.data)) return;
    if (msg.infer._scanStacked === true) return; // a scan gave its steps the value already
    if (this.skipDeterministic && msg.infer['deterministic'] === true) return;
    const v = this.data[msg.name] as tf.Tensor | tf.TensorLike;
    msg.value = v instanceof tf.Tensor ? v : tf.tensor(v);
    msg.isObserved = true;
  }
}

/**
 * Condition `fn` on `data`: `{siteName: value}`, or a `Trace` whose sample sites give the values
 * (Pyro's `condition(fn, data=trace)`; the trace's tensors must stay alive while `fn` runs).
 *
 * @example
 * ```ts
 * const conditioned = condition(model, { y: tf.tensor([1.2, 0.7]) });
 * trace(conditioned).getTrace().get('y')?.isObserved; // true
 * ```
 */
export function condition<A extends unknown[], R>(
  fn: Fn<A, R>,
  data: Record<string, tf.Tensor | tf.TensorLike> | Trace,
): Fn<A, R> {
  const values = data instanceof Trace ? traceValues(data) : data;
  checkSiteData(values, 'condition');
  return wrapWith(fn, () => new ConditionMessenger(values));
}

/** The values of the sample sites of a trace (Pyro's `condition(data=trace)`). */
function traceValues(tr: Trace): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const s of tr.sampleSites()) if (s.value !== null) out[s.name] = s.value;
  return out;
}
