/**
 * `intervene`: Pyro's `poutine.do` (`do` is a reserved word in JavaScript). An intervention
 * `do(z = v)` cuts the site from its parents: the model downstream of `z` sees `v`, while the
 * site `z` itself is still drawn from its distribution (and recorded, so that a guide or
 * `Predictive` sees it) without influencing anything:
 *
 * $$p(x, z \mid \mathrm{do}(z = v)) = p(z)\, p(x \mid z = v)$$
 *
 * Unlike `condition`, the value `v` is not scored: `log p(v)` is no part of the log-joint. As in
 * Pyro, the intervened message is renamed `${name}__CF` and stopped, so outer handlers (e.g.
 * `trace`) record only the drawn site `name`.
 */
import * as tf from '@tensorflow/tfjs';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { applyStack, makeMessage, type Message } from '../runtime.js';
import { checkSiteData } from './handler_args.js';

/** Splits intervened sample sites. @internal */
export class InterveneMessenger extends Messenger {
  private readonly splitting = new Set<Message>();
  constructor(private readonly data: Record<string, tf.Tensor | tf.TensorLike>) {
    super();
  }
  override processMessage(msg: Message): void {
    // a scan's stacked site (its steps were intervened one by one) and its stand-in
    if (msg.infer._scanStacked === true || msg.infer._scanProbe === true) return;
    this.split(msg, (v) => v);
  }

  /**
   * A step of a site made inside a `scan` (`ScanStepRewriter`): the intervention on the stacked
   * site, its value `[T, ...]` giving step `t` row `t` (a value of one step's shape every step).
   */
  processScanStep(msg: Message, stepValue: (v: tf.Tensor) => tf.Tensor): void {
    this.split(msg, stepValue);
  }

  private split(msg: Message, valueOf: (v: tf.Tensor) => tf.Tensor): void {
    if (msg.type !== 'sample' || !(msg.name in this.data) || this.splitting.has(msg)) return;
    // the site as it would be without the intervention, through the whole stack again (inner
    // handlers re-apply their plates, scales and masks to it)
    const copy = makeMessage({
      type: 'sample',
      name: msg.name,
      fn: msg.fn,
      infer: { ...msg.infer },
    });
    this.splitting.add(copy);
    try {
      applyStack(copy);
    } finally {
      this.splitting.delete(copy);
    }
    const v = this.data[msg.name] as tf.Tensor | tf.TensorLike;
    const value = valueOf(v instanceof tf.Tensor ? v : tf.tensor(v));
    msg.name = `${msg.name}__CF`;
    msg.value = value;
    msg.isObserved = true;
    msg.stop = true;
  }
}

/**
 * Intervene on `fn`'s sample sites (Pyro's `poutine.do`): `data` maps site names to values.
 *
 * @example
 * ```ts
 * const treated = intervene(model, { treatment: 1 });
 * const tr = trace(treated).getTrace(); // 'treatment' drawn; the outcome computed at 1
 * ```
 */
export function intervene<A extends unknown[], R>(
  fn: Fn<A, R>,
  data: Record<string, tf.Tensor | tf.TensorLike>,
): Fn<A, R> {
  checkSiteData(data, 'intervene');
  return wrapWith(fn, () => new InterveneMessenger(data));
}
