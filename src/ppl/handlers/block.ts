/**
 * `block`: hide sites from the handlers outside it (Pyro's `BlockMessenger`). A hidden message
 * stops on its way in, so outer handlers (e.g. an outer `trace`) never see it.
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { checkStringList } from './handler_args.js';
import type { Message, SiteType } from '../runtime.js';

/** Options of {@link block}: by default every site is hidden. */
export interface BlockOptions {
  /** Site names to hide. */
  hide?: string[];
  /** Site names to expose (everything else is hidden). */
  expose?: string[];
  /** Site types to hide. */
  hideTypes?: SiteType[];
  /** Site types to expose. */
  exposeTypes?: SiteType[];
  /** A predicate: hide when it returns true. */
  hideFn?: (msg: Message) => boolean;
}

/** Stops hidden messages. @internal */
export class BlockMessenger extends Messenger {
  private readonly hidden: (msg: Message) => boolean;
  constructor(o: BlockOptions = {}) {
    super();
    this.hidden = (msg) => {
      if (o.hideFn !== undefined) return o.hideFn(msg);
      if (o.hide !== undefined) return o.hide.includes(msg.name);
      if (o.expose !== undefined) return !o.expose.includes(msg.name);
      if (o.hideTypes !== undefined) return o.hideTypes.includes(msg.type);
      if (o.exposeTypes !== undefined) return !o.exposeTypes.includes(msg.type);
      return true;
    };
  }
  override processMessage(msg: Message): void {
    if (this.hidden(msg)) msg.stop = true;
  }
}

/**
 * Hide sites of `fn` from outer handlers.
 *
 * @example
 * ```ts
 * const tr = trace(block(model, { hide: ['z'] })).getTrace(); // tr.has('z') === false
 * ```
 */
export function block<A extends unknown[], R>(fn: Fn<A, R>, options: BlockOptions = {}): Fn<A, R> {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `block: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, ['hide', 'expose', 'hideTypes', 'exposeTypes', 'hideFn'], 'block');
  for (const k of ['hide', 'expose', 'hideTypes', 'exposeTypes'] as const) {
    checkStringList(options[k], k, 'block');
  }
  if (options.hideFn !== undefined && typeof options.hideFn !== 'function') {
    throw new ArgumentError('hideFn', 'block: expected a function of the message');
  }
  return wrapWith(fn, () => new BlockMessenger(options));
}
