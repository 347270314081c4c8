/**
 * Support constraints (after Pyro's `torch.distributions.constraints` and NumPyro's
 * `numpyro.distributions.constraints`): a {@link Constraint} describes a set `S` of values, with
 * the number of trailing dimensions that form one element of `S` (`eventDim`), whether `S` is
 * discrete, and a membership test `check(x)` returning a boolean tensor of shape
 * `x.shape.slice(0, x.rank - eventDim)`.
 *
 * Every distribution exposes its support as `dist.support`; {@link bijectTo} (in
 * `transform_to.ts`) maps each continuous constraint to a bijector from unconstrained reals.
 *
 * Bounds (`interval(a, b)`, `greaterThan(a)`...) are numbers or tensors; tensors stay the
 * caller's (a constraint never owns or frees tensors), so a distribution's `support` getter can
 * hand out constraints that reference its own parameters at no cost.
 */
export * from './constraint.js';
export * from './discrete.js';
export * from './one_hot.js';
export * from './real_line.js';
export * from './structured.js';
export * from './zero_sum.js';
export * from './sphere.js';
