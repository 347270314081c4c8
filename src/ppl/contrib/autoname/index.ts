/**
 * Pyro's `pyro.contrib.autoname`: {@link scope} and {@link nameCount}, and {@link autoname}
 * with its {@link sample} and {@link genname}.
 * @module
 */
export { scope, nameCount, type ScopeOptions } from './scoping.js';
export {
  autoname,
  sample,
  genname,
  type AutonameOptions,
  type AutonameSampleOptions,
} from './autoname.js';
