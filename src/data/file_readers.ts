/**
 * Node-only dataset file readers: IDX (raw or gzip) and CIFAR binary files, the standard MNIST
 * file layout, and the split/directory checks shared by the dataset sources. Exported from
 * `deepprob/node`, never from the browser entry.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
 * @param dims the numbers of dimensions accepted (default any).
 * @example
 * ```ts
 * const labels = readIdxFile('data/t10k-labels-idx1-ubyte.gz'); // shape [10000]
 * ```
 */
export function readIdxFile(file: string, dims?: readonly number[]): IdxArray {
  return parseIdx(readMaybeGzip(file), file, dims);
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
  /** Said after the error for a label outside `numClasses` (e.g. which dataset takes other counts). */
  classHint?: string;
}

/**
 * Load an image/label IDX pair into an {@link ImageSet}.
 *
 * @throws DataFormatError when a file is missing, truncated, corrupt, or the two files disagree.
 */
export function loadIdxImageSet(o: IdxImageSetOptions): ImageSet {
  const img = readIdxFile(o.images, [3, 4]);
  const lab = readIdxFile(o.labels, [1]);
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
  let at = -1;
  for (let i = 0; i < labels.length; i++) {
    if ((labels[i] as number) > max || at < 0) {
      max = labels[i] as number;
      at = i;
    }
  }
  const numClasses = o.numClasses ?? max + 1;
  if (max >= numClasses) {
    throw new DataFormatError(
      o.labels,
      `label ${max} (index ${at}) out of range: ${o.name} has ${numClasses} classes, labels ` +
        `0..${numClasses - 1}` +
        (o.classHint !== undefined ? `; ${o.classHint}` : ''),
    );
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
    files: [o.images, o.labels],
  };
  if (o.classNames !== undefined) set.classNames = o.classNames;
  return checkImageSet(set, o.name);
}

/**
 * Find `base` or `base.gz` in `dir`, by exact name, else by name ignoring case
 * (`TRAIN-IMAGES-IDX3-UBYTE`, as some archives unpack on case-insensitive file systems).
 *
 * @param dir the folder.
 * @param bases the names accepted, in order of preference.
 * @throws DataFormatError naming the folder, the names looked for and the files the folder holds.
 */
export function findDataFile(dir: string, bases: string[]): string {
  if (!existsSync(dir)) throw new DataFormatError(dir, 'no such directory');
  if (!statSync(dir).isDirectory()) throw new DataFormatError(dir, 'not a directory');
  // a file, not a folder of that name (Kaggle's MNIST unpacks train-images-idx3-ubyte/ beside
  // the file train-images.idx3-ubyte)
  const isFile = (name: string): boolean => {
    const p = join(dir, name);
    return existsSync(p) && statSync(p).isFile();
  };
  const names = bases.flatMap((b) => [b, `${b}.gz`]);
  for (const name of names) if (isFile(name)) return join(dir, name);
  const entries = readdirSync(dir);
  for (const name of names) {
    const found = entries.find((e) => e.toLowerCase() === name.toLowerCase() && isFile(e));
    if (found !== undefined) return join(dir, found);
  }
  const files = entries.filter(isFile).sort();
  const shown =
    files.slice(0, 12).join(', ') + (files.length > 12 ? `, ... (${files.length})` : '');
  throw new DataFormatError(
    dir,
    `none of ${bases.map((b) => `${b}[.gz]`).join(', ')} found in this directory (names ` +
      `compared ignoring case; it holds ${files.length === 0 ? 'no files' : shown})`,
  );
}

/** `split` or `'train'`; throws naming `split` otherwise. */
export function checkSplit(split: string | undefined): Split {
  const s = split ?? 'train';
  if (s !== 'train' && s !== 'test') {
    throw new ArgumentError('split', `expected 'train' or 'test', got '${s}'`);
  }
  return s;
}

/**
 * The image and label file names of a split in the MNIST layout, in order of preference: the
 * split's stem `train`, or `t10k` (MNIST) then `test` (some re-packagings); `-` or `.` before
 * `idx3`/`idx1` (Kaggle's `train-images.idx3-ubyte`); `idx4` for images with channels
 * (`[n, h, w, c]`); each raw or `.gz`, names compared ignoring case ({@link findDataFile}).
 *
 * @param split the split.
 * @param prefix prefix of every name (default none).
 */
export function mnistLayoutNames(
  split: Split,
  prefix = '',
): { images: string[]; labels: string[] } {
  const stems = split === 'train' ? ['train'] : ['t10k', 'test'];
  const names = (kind: string, dims: string[]): string[] =>
    stems.flatMap((s) =>
      dims.flatMap((d) => [`${prefix}${s}-${kind}-${d}-ubyte`, `${prefix}${s}-${kind}.${d}-ubyte`]),
    );
  return { images: names('images', ['idx3', 'idx4']), labels: names('labels', ['idx1']) };
}

/**
 * Load a dataset stored under the standard MNIST file names (`train-images-idx3-ubyte[.gz]`, ...;
 * the variants of {@link mnistLayoutNames}).
 */
export function loadMnistLayout(
  dir: string,
  split: Split,
  name: string,
  prefix = '',
  extra: Partial<IdxImageSetOptions> = {},
): ImageSet {
  const n = mnistLayoutNames(split, prefix);
  const images = findDataFile(dir, n.images);
  const labels = findDataFile(dir, n.labels);
  return loadIdxImageSet({ images, labels, name: `${name}/${split}`, ...extra });
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
    { name, images, labels, count, height: 32, width: 32, channels: 3, numClasses, files },
    name,
  );
}

/** The environment variable naming the root of datasets that are not bundled. */
export const DATA_DIR_ENV = 'DEEPPROB_DATA_DIR';

/**
 * The folder of a dataset that is not bundled under the data root `$DEEPPROB_DATA_DIR`
 * (`$DEEPPROB_DATA_DIR/<key>`, e.g. `.../kmnist`), when the variable is set and the folder exists;
 * else undefined. The role of TFDS's `TFDS_DATA_DIR` or torchvision's `root`.
 *
 * @param key the dataset's folder name (`kmnist`, `emnist`, `cifar10`, `cifar100`).
 */
export function datasetDirFromEnv(key: string): string | undefined {
  const root = process.env[DATA_DIR_ENV];
  if (root === undefined || root === '') return undefined;
  const dir = join(root, key);
  return existsSync(dir) ? dir : undefined;
}

/**
 * `dir`, else the dataset's folder under `$DEEPPROB_DATA_DIR` ({@link datasetDirFromEnv}), else an
 * error naming `dir` for a dataset that is not bundled, with both ways to give it.
 */
export function requireDir(
  dir: string | undefined,
  what: string,
  files: string,
  key: string,
): string {
  if (dir !== undefined) return dir;
  const fromEnv = datasetDirFromEnv(key);
  if (fromEnv !== undefined) return fromEnv;
  throw new ArgumentError(
    'dir',
    `${what} is not bundled: pass the directory holding ${files}, or put them in ` +
      `$${DATA_DIR_ENV}/${key}`,
  );
}
