/**
 * GP covariance functions (Pyro's `pyro.contrib.gp.kernels`).
 * @module
 */
export { Kernel, type KernelOptions } from './kernel.js';
export {
  Isotropy,
  RBF,
  RationalQuadratic,
  Exponential,
  Matern12,
  Matern32,
  Matern52,
  Cosine,
  type IsotropyOptions,
  type RationalQuadraticOptions,
} from './isotropic.js';
export { Periodic, type PeriodicOptions } from './periodic.js';
export {
  DotProductKernel,
  DotProduct,
  Linear,
  Polynomial,
  type DotProductOptions,
  type PolynomialOptions,
} from './dot_product.js';
export { Constant, WhiteNoise, type StaticOptions } from './static.js';
export { Brownian, type BrownianOptions } from './brownian.js';
export { Coregionalize, type CoregionalizeOptions } from './coregionalize.js';
export {
  Combination,
  Sum,
  Product,
  Exponent,
  VerticalScaling,
  Warping,
  type CombinationOptions,
  type KernelOrConstant,
  type InputFn,
  type WarpingOptions,
} from './combination.js';
