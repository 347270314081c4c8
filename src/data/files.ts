/**
 * The dataset registry (Node only): dataset names and {@link loadDataset}, the CLI's `--dataset`.
 * The readers are in `file_readers.ts`, where each dataset's files are found in `sources.ts`.
 */
import { ArgumentError } from '../utils/errors.js';
import type { ImageSet } from './dataset.js';
import type { LoadOptions } from './file_readers.js';
import {
  loadCifar10,
  loadCifar100,
  loadEmnist,
  loadFashionMnist,
  loadKmnist,
  loadMnist,
} from './sources.js';

/** Dataset names understood by {@link loadDataset}. */
export const DATASETS = [
  'mnist',
  'fashion-mnist',
  'kmnist',
  'emnist',
  'cifar10',
  'cifar100',
] as const;

/**
 * Load a dataset by name (the CLI's `--dataset`).
 *
 * @param name one of {@link DATASETS}.
 * @param options `dir`, `split`.
 */
export function loadDataset(name: string, options: LoadOptions = {}): ImageSet {
  switch (name) {
    case 'mnist':
      return loadMnist(options);
    case 'fashion-mnist':
    case 'fashion':
      return loadFashionMnist(options);
    case 'kmnist':
      return loadKmnist(options);
    case 'emnist':
      return loadEmnist(options);
    case 'cifar10':
      return loadCifar10(options);
    case 'cifar100':
      return loadCifar100(options);
    default:
      throw new ArgumentError('dataset', `expected one of ${DATASETS.join(', ')}, got '${name}'`);
  }
}
