/**
 * Pyro's `pyro.contrib.gp.util`: {@link train} (SVI on a GP module, the loss history) and
 * {@link conditional} (the Gaussian conditional of a GP at new inputs).
 * @module
 */
export { train, type TrainOptions } from './train.js';
export { conditional, type ConditionalOptions } from './conditional.js';
