/** Pyro's `pyro.contrib.autoname`: {@link scope} and {@link nameCount}. @module */
export { scope, nameCount, type ScopeOptions } from './scoping.js';
