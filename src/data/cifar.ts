/**
 * Parser of the CIFAR-10 / CIFAR-100 "binary version" files (Krizhevsky 2009).
 *
 * CIFAR-10 record: 1 label byte + 3072 pixel bytes; CIFAR-100 record: 1 coarse-label byte +
 * 1 fine-label byte + 3072 pixel bytes. Pixels are three 32x32 planes (R, G, B), row-major; we
 * return them interleaved (NHWC) so they feed `tf.conv2d` directly.
 */
import { ArgumentError } from '../utils/errors.js';
import { DataFormatError } from './idx.js';

/** Parsed CIFAR records. */
export interface CifarRecords {
  /** NHWC uint8 pixels, `count x 32 x 32 x 3`. */
  images: Uint8Array;
  /** Labels (CIFAR-10 label, or the CIFAR-100 fine or coarse label). */
  labels: Uint8Array;
  /** Number of records. */
  count: number;
}

/** Side length of CIFAR images. */
export const CIFAR_SIZE = 32;
const PLANE = CIFAR_SIZE * CIFAR_SIZE;

/**
 * Parse one CIFAR binary file.
 *
 * @param bytes the file contents.
 * @param variant `'cifar10'` (1 label byte per record) or `'cifar100'` (2 label bytes).
 * @param file the file name, used in error messages.
 * @param label for CIFAR-100, which label to return: `'fine'` (100 classes, default) or `'coarse'` (20).
 * @throws DataFormatError when the size is not a whole number of records or a label is out of range.
 * @example
 * ```ts
 * const { images, labels, count } = parseCifar(bytes, 'cifar10', 'data_batch_1.bin'); // 10000 records
 * ```
 */
export function parseCifar(
  bytes: Uint8Array,
  variant: 'cifar10' | 'cifar100',
  file = 'CIFAR buffer',
  label: 'fine' | 'coarse' = 'fine',
): CifarRecords {
  if (!(bytes instanceof Uint8Array)) {
    throw new ArgumentError(
      'bytes',
      `expected a Uint8Array of the file's contents, got ${String(bytes)}`,
    );
  }
  if (variant !== 'cifar10' && variant !== 'cifar100') {
    throw new ArgumentError('variant', `expected 'cifar10' or 'cifar100', got ${String(variant)}`);
  }
  if (label !== 'fine' && label !== 'coarse') {
    throw new ArgumentError('label', `expected 'fine' or 'coarse', got ${String(label)}`);
  }
  const labelBytes = variant === 'cifar10' ? 1 : 2;
  const recordSize = labelBytes + 3 * PLANE;
  if (bytes.length === 0 || bytes.length % recordSize !== 0) {
    const whole = Math.floor(bytes.length / recordSize);
    const near =
      whole === 0 ? `${recordSize}` : `${whole * recordSize} or ${(whole + 1) * recordSize}`;
    const other = variant === 'cifar10' ? 'cifar100' : 'cifar10';
    const otherSize = (variant === 'cifar10' ? 2 : 1) + 3 * PLANE;
    throw new DataFormatError(
      file,
      `truncated or corrupt: ${bytes.length} bytes is not a whole number of ${recordSize}-byte ` +
        `${variant} records (expected ${near} bytes)` +
        (bytes.length > 0 && bytes.length % otherSize === 0
          ? `; it is a whole number of ${otherSize}-byte ${other} records: is it ${other}?`
          : ''),
    );
  }
  const count = bytes.length / recordSize;
  const numClasses = variant === 'cifar10' ? 10 : label === 'fine' ? 100 : 20;
  const labelOffset = variant === 'cifar10' ? 0 : label === 'fine' ? 1 : 0;
  const images = new Uint8Array(count * 3 * PLANE);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const base = r * recordSize;
    const l = bytes[base + labelOffset] as number;
    if (l >= numClasses) {
      throw new DataFormatError(
        file,
        `corrupt: record ${r} has label ${l}, expected < ${numClasses} (${variant})`,
      );
    }
    labels[r] = l;
    const px = base + labelBytes;
    const out = r * 3 * PLANE;
    for (let i = 0; i < PLANE; i++) {
      images[out + 3 * i] = bytes[px + i] as number;
      images[out + 3 * i + 1] = bytes[px + PLANE + i] as number;
      images[out + 3 * i + 2] = bytes[px + 2 * PLANE + i] as number;
    }
  }
  return { images, labels, count };
}
