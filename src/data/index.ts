/**
 * Data: in-memory image datasets, the IDX and CIFAR parsers, host-side preprocessing and the
 * seeded mini-batcher. File reading (IDX/CIFAR files, bundled MNIST and Fashion-MNIST) is in the
 * Node entry `deepprob/node` (`loadMnist`, `loadFashionMnist`, ...).
 *
 * @module
 */
export { type ImageSet, checkImageSet, limitImageSet } from './dataset.js';
export { type IdxArray, DataFormatError, parseIdx } from './idx.js';
export { type CifarRecords, CIFAR_SIZE, parseCifar } from './cifar.js';
export {
  type Normalization,
  type ImageTransform,
  type ResolvedTransform,
  NORMALIZATIONS,
  resolveTransform,
  writeImage,
} from './transform.js';
export { type Batch, type BatcherOptions, Batcher } from './batcher.js';
export {
  CORRUPTIONS,
  type Corruption,
  rotateImages,
  corruptImages,
  uniformNoiseImages,
} from './corruptions.js';

// corruptions of float images on any pixel range (inferred or given)
export { type CorruptionOptions, inferPixelRange } from './pixel_range.js';
