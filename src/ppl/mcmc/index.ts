/**
 * Markov chain Monte Carlo: `HMC` and `NUTS` kernels with Stan's warmup adaptation, the `MCMC`
 * driver, potentials from models, initialization strategies and convergence diagnostics.
 */
export { MCMC, type MCMCOptions, type MCMCState, type ChainStats } from './mcmc.js';
export { type ModelInitParams, type NestedNumbers } from './model_init_params.js';
export { drive, driveAll, type DriveCounters } from './drive.js';
export {
  CompiledPotential,
  compilePotential,
  chainPotential,
  recordPotential,
  VERIFY_POINTS,
  type CompileMode,
} from './compiled_potential.js';
export { recordTape, TapeRecordError } from './tape/record.js';
export { TapeReplay, UnsupportedKernelError } from './tape/replay.js';
export type { TapeProgram, TapeNode } from './tape/program.js';
export { NUTS, type NUTSOptions } from './nuts.js';
export { HMC, type HMCOptions } from './hmc.js';
export { RandomWalkMH, type RandomWalkOptions } from './random_walk.js';
export { HamiltonianKernel, type HamiltonianOptions, type TrajectoryResult } from './kernel.js';
export { ChainSampler, type TransitionStats } from './chain_sampler.js';
export {
  ModelPotential,
  isDeterministicSite,
  type DiscreteEnumeration,
  type Potential,
  type LatentSite,
} from './potential.js';
export { FnPotential, potentialFromFn, type PotentialFn, type ParamSlot } from './potential_fn.js';
export {
  initToMedian,
  initToUniform,
  initToValue,
  initToMean,
  initToSample,
  initToFeasible,
  initialPoint,
  type InitStrategy,
} from './init.js';
export {
  hamiltonian,
  leapfrog,
  clonePoint,
  type PhasePoint,
  type PotentialPoint,
  type PotentialRequests,
} from './integrator.js';
export { Metric, cholesky, type MetricKind } from './metric.js';
export { WelfordEstimator } from './welford.js';
export { DualAveraging, type DualAveragingOptions } from './dual_averaging.js';
export { warmupWindows, type WarmupWindowOptions } from './warmup.js';
export { findReasonableStepSize } from './step_size.js';
export { ChainRng } from './rng.js';
export {
  quantile,
  splitChains,
  rankNormalize,
  rhat,
  splitRhat,
  ess,
  essBulk,
  essTail,
  type ChainDraws,
} from './diagnostics.js';
export { summarizeSite, formatSummary, type SiteSummary, type ScalarSummary } from './summary.js';
export { silentProgress, stderrProgress, type MCMCProgress } from './progress.js';
export { type ChainState, cloneChainState } from './chain_state.js';
export {
  setCheckpointIO,
  checkpointIO,
  encodeCheckpoint,
  decodeCheckpoint,
  crc32,
  type MCMCCheckpointIO,
  type MCMCCheckpoint,
  type ChainCheckpoint,
  type RunFingerprint,
} from './checkpoint.js';
export { type MCMCCheckpointOptions } from './run_checkpoint.js';
export { type DualAveragingState } from './dual_averaging.js';
export { type WelfordState } from './welford.js';
export { type ChainRngState } from './rng.js';
export { HMCGibbs, type HMCGibbsOptions, type GibbsFn } from './hmc_gibbs.js';
export { DiscreteHMCGibbs, type DiscreteHMCGibbsOptions } from './discrete_hmc_gibbs.js';
export { MixedHMC, type MixedHMCOptions } from './mixed_hmc.js';
export { BarkerMH, type BarkerMHOptions } from './barker.js';
export { EnsembleKernel, type WalkerMove } from './ensemble.js';
export { AIES, type AIESOptions, type AIESMove } from './aies.js';
export { ESS, type ESSOptions, type ESSMove } from './ensemble_slice.js';
export { SA, type SAOptions } from './sa.js';
export {
  EllipticalSlice,
  type EllipticalSliceOptions,
  type GaussianPrior,
} from './elliptical_slice.js';
export { GaussianKDE, kdeFactor, type KDEBandwidth } from './gaussian_kde.js';
export { HMCECS, blockUpdate, type HMCECSOptions, type TaylorProxy } from './hmcecs.js';
// Session 17: NumPyro's print_summary columns (hpdi, n_eff) and get_extra_fields(group_by_chain).
export { essNumPyro, hpdiSorted } from './diagnostics.js';
export { EXTRA_FIELDS, type ExtraField } from './extra_fields.js';
// Audit 19: NumPyro's extra-field names (diverging, accept_prob, ...) for getExtraFields({fields}).
export { NUMPYRO_EXTRA_FIELDS, type ExtraFieldsOptions } from './extra_fields.js';
// Session 17: NumPyro's initialize_model (the unconstrained init point, potential, postprocess).
export {
  initializeModel,
  type InitializeModelOptions,
  type ModelInfo,
} from './initialize_model.js';
export {
  summary,
  printSummary,
  type SamplesSummaryOptions,
  type SummaryOptions,
} from './summary.js';
// Session 17: Pyro's effective_sample_size (lag sums over N - t), behind ppl.stats.effectiveSampleSize.
export { essPyro } from './diagnostics.js';
// Session 18: ArviZ's name of the rank-normalized split R-hat, NumPyro's split_gelman_rubin.
export { rankRhat, splitGelmanRubin } from './diagnostics.js';
