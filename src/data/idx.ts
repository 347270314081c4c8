/**
 * Parser of the IDX format of MNIST, Fashion-MNIST, KMNIST and EMNIST (LeCun et al.).
 *
 * Layout: bytes 0-1 are zero, byte 2 the element type (0x08 ubyte, 0x09 byte, 0x0B int16,
 * 0x0C int32, 0x0D float32, 0x0E float64), byte 3 the number of dimensions `d`; then `d`
 * big-endian uint32 sizes; then the data in row-major order, big-endian.
 * File size = `4 + 4 d + prod(sizes) * bytesPerElement`.
 */
import { ArgumentError, DeepProbError } from '../utils/errors.js';

/** A parsed IDX array. */
export interface IdxArray {
  /** Element type name. */
  dtype: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  /** Dimension sizes. */
  shape: number[];
  /** Values, row-major (uint8 data is returned as a view on the input, no copy). */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** A dataset file that cannot be read: the message names the file and what was expected. */
export class DataFormatError extends DeepProbError {
  /** The offending file (or a description of the buffer). */
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'DataFormatError';
    this.file = file;
  }
}

const TYPES: Record<number, { dtype: IdxArray['dtype']; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/**
 * Parse an (uncompressed) IDX buffer.
 *
 * @param bytes the file contents.
 * @param file the file name, used in error messages.
 * @param dims the numbers of dimensions the caller accepts (default any), checked against the
 *   header before its sizes are read (a wrong count is named as such, not as a size mismatch).
 * @returns dtype, shape and data.
 * @throws DataFormatError on a bad magic number, a truncated header or body, or trailing bytes.
 * @example
 * ```ts
 * const { shape, data } = parseIdx(bytes, 'train-images-idx3-ubyte'); // shape [60000, 28, 28]
 * ```
 */
export function parseIdx(
  bytes: Uint8Array,
  file = 'IDX buffer',
  dims?: readonly number[],
): IdxArray {
  if (!(bytes instanceof Uint8Array)) {
    throw new ArgumentError(
      'bytes',
      `expected a Uint8Array of the file's contents, got ${String(bytes)}`,
    );
  }
  if (bytes.length < 4) {
    throw new DataFormatError(file, `truncated: ${bytes.length} bytes, an IDX header needs >= 4`);
  }
  const type = TYPES[bytes[2] as number];
  if (bytes[0] !== 0 || bytes[1] !== 0 || type === undefined || (bytes[3] as number) === 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(
      ' ',
    );
    throw new DataFormatError(
      file,
      `not an IDX file: magic bytes ${magic}, expected 00 00 <type 08|09|0b|0c|0d|0e> <ndim>`,
    );
  }
  const ndim = bytes[3] as number;
  if (dims !== undefined && !dims.includes(ndim)) {
    throw new DataFormatError(
      file,
      `expected an IDX file of ${dims.join(' or ')} dimension(s) (header byte 4), got ${ndim}`,
    );
  }
  const headerSize = 4 + 4 * ndim;
  if (bytes.length < headerSize) {
    throw new DataFormatError(
      file,
      `truncated header: ${bytes.length} bytes, expected ${headerSize} for ${ndim} dimensions`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerSize + count * type.size;
  if (bytes.length !== expected) {
    throw new DataFormatError(
      file,
      `${bytes.length < expected ? 'truncated' : 'corrupt (trailing bytes)'}: ${bytes.length} bytes, ` +
        `expected ${expected} (header ${headerSize} + ${shape.join('x')} x ${type.size} bytes ${type.dtype})`,
    );
  }
  const body = bytes.subarray(headerSize);
  let data: IdxArray['data'];
  switch (type.dtype) {
    case 'uint8':
      data = body;
      break;
    case 'int8':
      data = new Int8Array(body.buffer, body.byteOffset, count);
      break;
    default: {
      const out =
        type.dtype === 'int16'
          ? new Int16Array(count)
          : type.dtype === 'int32'
            ? new Int32Array(count)
            : type.dtype === 'float32'
              ? new Float32Array(count)
              : new Float64Array(count);
      const get =
        type.dtype === 'int16'
          ? (o: number) => view.getInt16(o, false)
          : type.dtype === 'int32'
            ? (o: number) => view.getInt32(o, false)
            : type.dtype === 'float32'
              ? (o: number) => view.getFloat32(o, false)
              : (o: number) => view.getFloat64(o, false);
      for (let i = 0; i < count; i++) out[i] = get(headerSize + i * type.size);
      data = out;
    }
  }
  return { dtype: type.dtype, shape, data };
}
