/**
 * deepprob's kernel pack: fast replacements for backend kernels that are slow or missing.
 * `DEEPPROB_KERNELS=stock` turns it off for comparison.
 */
import { getEnv } from '../env.js';

/**
 * Install the kernel pack on `backendName` (idempotent). Returns which kernels are active.
 */
export function installKernelPack(backendName: string): 'fast' | 'stock' {
  if (getEnv('DEEPPROB_KERNELS') === 'stock') return 'stock';
  if (backendName !== 'wasm' && backendName !== 'cpu') return 'stock';
  return 'stock';
}
