/**
 * The one-line description of the backend `ready()` chose, as the CLI prints it:
 * `deepprob: backend <name> (tfjs <version>, kernels <pack> [+ SIMD (...)], <n> thread(s)[; native
 * path])` on wasm, the GPU adapter on webgpu.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { BackendInfo } from './ready.js';

/** `' (relaxed SIMD FMA, 2 threads)'`-style note on the SIMD module's build, or ''. */
function simdNote(info: BackendInfo): string {
  const b = info.simdBuild;
  if (b === undefined) return '';
  const parts = [
    ...(b.relaxed ? ['relaxed SIMD FMA'] : []),
    ...(b.threads > 1 ? [`${b.threads} threads`] : []),
  ];
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/**
 * One line describing the chosen backend, as printed by the CLI.
 * @param info what {@link ready} returned (or {@link backendInfo}).
 * @throws ArgumentError naming `info` when it is not a backend description (e.g. undefined:
 *   `describeBackend()` before or without `ready()`'s result).
 */
export function describeBackend(info: BackendInfo): string {
  if (info === null || typeof info !== 'object' || typeof info.backend !== 'string') {
    throw new ArgumentError(
      'info',
      `expected the BackendInfo that ready() returns (or backendInfo() after it), got ${String(info)}`,
    );
  }
  const path =
    info.native !== undefined
      ? `; ${info.native} for matmul/conv`
      : info.nativeOff !== undefined && info.nativeOff !== 'not Node'
        ? `; native path off: ${info.nativeOff}`
        : '';
  const extra =
    info.backend === 'wasm'
      ? `, kernels ${info.kernels}${info.simd ? ` + SIMD${simdNote(info)}` : ''}, ${info.threads} thread(s)${path}`
      : info.adapter !== undefined
        ? `, ${info.adapter}`
        : '';
  return `deepprob: backend ${info.backend} (tfjs ${tf.version.tfjs}${extra})`;
}
