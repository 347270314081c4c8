/**
 * `block`: hide sites from the handlers outside it (Pyro's `BlockMessenger`). A hidden message
 * stops on its way in, so outer handlers (e.g. an outer `trace`) never see it. The seed stream of
 * an outer `seed` is not hidden (NumPyro's `block`): a hidden site without a value still draws
 * the outer handler's next seed, so `seed(block(f), s)` draws what `block(seed(f, s))` does.
 */
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { Messenger, wrapWith, type Fn } from '../messenger.js';
import { checkStringList } from './handler_args.js';
import { seedBelow } from './seed.js';
import { HANDLER_STACK, type Message, type SiteType } from '../runtime.js';

/**
 * Options of {@link block} (Pyro's `block(hide_fn, expose_fn, hide_all, expose_all, hide, expose,
 * hide_types, expose_types)`); with none, every site is hidden.
 */
export interface BlockOptions {
  /** Site names to hide. */
  hide?: string[];
  /** Site names to expose (with it, every other site is hidden unless `hide` says otherwise). */
  expose?: string[];
  /** Site types to hide. */
  hideTypes?: SiteType[];
  /** Site types to expose (with it, every other type is hidden). */
  exposeTypes?: SiteType[];
  /** Hide every site not exposed (default `true`; `false` when `hide`/`hideTypes` are given). */
  hideAll?: boolean;
  /** Expose every site not hidden (the opposite of `hideAll`; default `false`). */
  exposeAll?: boolean;
  /** A predicate: hide when it returns true (overrides the lists). */
  hideFn?: (msg: Message) => boolean;
  /** A predicate: expose when it returns true, hide otherwise (overrides the lists). */
  exposeFn?: (msg: Message) => boolean;
}

const KEYS = [
  'hide',
  'expose',
  'hideTypes',
  'exposeTypes',
  'hideAll',
  'exposeAll',
  'hideFn',
  'exposeFn',
] as const;

/**
 * Pyro's `_make_default_hide_fn`: a site is hidden when its name is in `hide`, or its type in
 * `hideTypes`, or when it is neither in `expose` nor of a type in `exposeTypes` and every other
 * site is hidden. `hideAll` starts from `!exposeAll`; `hide`/`hideTypes` turn it off and
 * `expose`/`exposeTypes` (applied after them) turn it on.
 */
function listHideFn(o: BlockOptions): (msg: Message) => boolean {
  let hideAll = o.exposeAll === true ? false : (o.hideAll ?? true);
  if (o.hide !== undefined) hideAll = false;
  if (o.expose !== undefined) hideAll = true;
  if (o.hideTypes !== undefined) hideAll = false;
  if (o.exposeTypes !== undefined) hideAll = true;
  const hide = new Set(o.hide ?? []);
  const expose = new Set(o.expose ?? []);
  const hideTypes = new Set<string>(o.hideTypes ?? []);
  const exposeTypes = new Set<string>(o.exposeTypes ?? []);
  return (msg) =>
    hide.has(msg.name) ||
    hideTypes.has(msg.type) ||
    (!expose.has(msg.name) && !exposeTypes.has(msg.type) && hideAll);
}

/** Stops hidden messages. @internal */
export class BlockMessenger extends Messenger {
  private readonly hidden: (msg: Message) => boolean;
  constructor(o: BlockOptions = {}) {
    super();
    const { hideFn, exposeFn } = o;
    if (hideFn !== undefined) this.hidden = hideFn;
    else if (exposeFn !== undefined) this.hidden = (msg) => !exposeFn(msg);
    else this.hidden = listHideFn(o);
  }
  /** Whether this block hides `msg` from the handlers outside it. */
  hides(msg: Message): boolean {
    return this.hidden(msg);
  }
  override processMessage(msg: Message): void {
    if (!this.hidden(msg)) return;
    msg.stop = true;
    // the seed handlers outside still seed it (NumPyro's block: `prng_key()` is never hidden)
    if (msg.type !== 'param' && msg.value === null && msg.seed === undefined) {
      msg.seed = seedBelow(HANDLER_STACK.lastIndexOf(this));
    }
  }
}

/** The first element of both lists, if any. */
function common(
  a: readonly string[] | undefined,
  b: readonly string[] | undefined,
): string | undefined {
  return a?.find((x) => b?.includes(x) === true);
}

/**
 * Hide sites of `fn` from outer handlers. The lists combine as in Pyro: a site is hidden when
 *
 * $$\text{name} \in \text{hide} \lor \text{type} \in \text{hideTypes} \lor
 *   (\text{name} \notin \text{expose} \land \text{type} \notin \text{exposeTypes} \land
 *   \text{hideAll})$$
 *
 * so `{hide: ['z'], hideTypes: ['param']}` hides `z` and every param, `{exposeTypes: ['sample'],
 * hide: ['z']}` every param and `z`. `hideFn` or `exposeFn` (only one) replaces the lists.
 *
 * Seeding goes through `block` (NumPyro's, since numpyro#1957): a hidden sample or subsample site
 * without a value takes the next seed of the innermost `seed` outside the block, in run order,
 * so `seed(block(fn, o), s)` and `block(seed(fn, s), o)` draw the same values.
 *
 * @throws ArgumentError naming the option: not a list of strings / function / boolean, both
 *   `hideFn` and `exposeFn`, `hideAll` and `exposeAll` both true, or a name or type both hidden
 *   and exposed.
 * @example
 * ```ts
 * const tr = trace(block(model, { hide: ['z'] })).getTrace(); // tr.has('z') === false
 * const guide = new AutoNormal(block(model, { exposeFn: (m) => m.name.startsWith('w') }));
 * ```
 */
export function block<A extends unknown[], R>(fn: Fn<A, R>, options: BlockOptions = {}): Fn<A, R> {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError('options', `block: expected an object, got ${String(options)}`);
  }
  checkOptionKeys(options, KEYS, 'block');
  for (const k of ['hide', 'expose', 'hideTypes', 'exposeTypes'] as const) {
    checkStringList(options[k], k, 'block');
  }
  for (const k of ['hideFn', 'exposeFn'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') {
      throw new ArgumentError(
        k,
        `block: expected a function of the message, got ${typeof options[k]}`,
      );
    }
  }
  for (const k of ['hideAll', 'exposeAll'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'boolean') {
      throw new ArgumentError(k, `block: expected a boolean, got ${String(options[k])}`);
    }
  }
  if (options.hideFn !== undefined && options.exposeFn !== undefined) {
    throw new ArgumentError('exposeFn', 'block: give only one of hideFn and exposeFn (as Pyro)');
  }
  if (options.hideAll === true && options.exposeAll === true) {
    throw new ArgumentError('exposeAll', 'block: hideAll and exposeAll cannot both be true');
  }
  const site = common(options.hide, options.expose);
  if (site !== undefined) {
    throw new ArgumentError('expose', `block: site '${site}' is in both hide and expose`);
  }
  const type = common(options.hideTypes, options.exposeTypes);
  if (type !== undefined) {
    throw new ArgumentError(
      'exposeTypes',
      `block: type '${type}' is in both hideTypes and exposeTypes`,
    );
  }
  return wrapWith(fn, () => new BlockMessenger(options));
}
