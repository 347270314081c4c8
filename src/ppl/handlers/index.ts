/** The effect handlers, one per file. */
export { trace, TraceMessenger, type TracedFn } from './trace.js';
export { replay, ReplayMessenger } from './replay.js';
export { condition, ConditionMessenger } from './condition.js';
export { intervene, InterveneMessenger } from './intervene.js';
export { block, BlockMessenger, type BlockOptions } from './block.js';
export { lift, LiftMessenger, type LiftPrior, type LiftFn } from './lift.js';
export { uncondition, UnconditionMessenger } from './uncondition.js';
export { seed, SeedMessenger } from './seed.js';
export { scale, ScaleMessenger } from './scale.js';
export { mask, MaskMessenger } from './mask.js';
export { substitute, SubstituteMessenger, type SubstituteData } from './substitute.js';
export { plate, PlateMessenger, type PlateOptions } from './plate.js';
export { markov, MarkovMessenger, type MarkovOptions, type MarkovScope } from './markov.js';
export {
  enumerate,
  EnumMessenger,
  enumerateDiscrete,
  EnumerateDiscreteConfigMessenger,
} from './enum.js';
export { reparam, ReparamMessenger, type Reparam, type ReparamMessage } from './reparam.js';
export { LocScaleReparam } from './reparam/loc_scale.js';
export { TransformReparam } from './reparam/transform.js';
export { CircularReparam } from './reparam/circular.js';
export { SplitReparam } from './reparam/split.js';
export { ProjectedNormalReparam } from './reparam/projected_normal.js';
export { escape, EscapeMessenger, NonlocalExit, discreteEscape, allEscape } from './escape.js';
export {
  queue,
  TraceQueue,
  enumExtend,
  iterDiscreteTraces,
  iterDiscreteEscape,
  iterDiscreteExtend,
  type PartialTraceQueue,
  type ExtendFn,
  type QueueOptions,
} from './queue.js';
export { equalize, EqualizeMessenger, type EqualizeOptions } from './equalize.js';
export { type ReparamChooser, type ReparamConfig } from './reparam.js';
export { UnitJacobianReparam } from './reparam/unit_jacobian.js';
export {
  DiscreteCosineReparam,
  type DiscreteCosineReparamOptions,
} from './reparam/discrete_cosine.js';
export { HaarReparam, type HaarReparamOptions } from './reparam/haar.js';
export {
  ReparamStrategy,
  MinimalReparam,
  AutoReparam,
  type AutoReparamOptions,
} from './reparam/strategies.js';
export { ConjugateReparam } from './reparam/conjugate.js';
export { GumbelSoftmaxReparam } from './reparam/gumbel_softmax.js';
export { LatentStableReparam, SymmetricStableReparam, StableReparam } from './reparam/stable.js';
export { maxEnumRank, MAX_ENUM_RANK } from './enum_support.js';
export { type ConfigEnumerateOptions } from './infer_config.js';
export { EnumDimAllocator, type DimLabels } from './enum_dims.js';
export {
  enumerateSupportValues,
  enumerateSupportTable,
  isEnumerable,
  checkEnumerable,
} from './enum_support.js';
export { configEnumerate, inferConfig, InferConfigMessenger } from './infer_config.js';
export { plateSeq, PlateSeqMessenger, type PlateSeqOptions } from './plate_seq.js';
