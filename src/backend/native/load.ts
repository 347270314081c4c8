/**
 * Loading deepprob's native addon in Node (imported only by `node_hooks.ts`, never by the browser
 * entry): `native/build/deepprob_native.node`, built at install by `scripts/build-native.mjs`
 * when a C compiler is present. Absent or unloadable, the wasm path runs unchanged.
 *
 * Environment: `DEEPPROB_NATIVE=0` turns the native path off; `DEEPPROB_NATIVE_THREADS=n` sizes
 * its thread pool (default: the machine's available parallelism, at most 16);
 * `DEEPPROB_NATIVE_ISA=avx2|sse` caps the instruction set (default: the best the CPU has);
 * `DEEPPROB_NATIVE_DIRECT=n`: unit-stride convolutions of at most n input channels run as direct
 * convolutions (default 7; 0 = always im2col + GEMM), for A/B timing.
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { NativeAddon } from './addon.js';

const require = createRequire(import.meta.url);

/** Path of the built addon: `<package>/native/build/deepprob_native.node`. */
export function nativeAddonPath(): string {
  return fileURLToPath(new URL('../../../native/build/deepprob_native.node', import.meta.url));
}

/** Threads wanted by the native pool (`DEEPPROB_NATIVE_THREADS`, else available parallelism). */
export function nativeThreads(): number {
  const v = process.env['DEEPPROB_NATIVE_THREADS'];
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 16) {
      throw new Error(`DEEPPROB_NATIVE_THREADS must be an integer in [1, 16], got '${v}'`);
    }
    return n;
  }
  return Math.min(16, Math.max(1, os.availableParallelism()));
}

/**
 * Load and start the native addon; undefined when `DEEPPROB_NATIVE=0`, when it was not built, or
 * when it cannot be loaded here (then the reason is in `why`).
 *
 * @returns the started addon, or undefined.
 */
export function loadNativeAddon(why: { reason?: string } = {}): NativeAddon | undefined {
  if (process.env['DEEPPROB_NATIVE'] === '0') {
    why.reason = 'DEEPPROB_NATIVE=0';
    return undefined;
  }
  const file = nativeAddonPath();
  if (!fs.existsSync(file)) {
    why.reason = `not built (${file}; run 'node scripts/build-native.mjs')`;
    return undefined;
  }
  try {
    const addon = require(file) as NativeAddon;
    addon.init(nativeThreads(), process.env['DEEPPROB_NATIVE_ISA'] ?? '');
    const direct = process.env['DEEPPROB_NATIVE_DIRECT'];
    if (direct !== undefined && direct !== '') {
      const n = Number(direct);
      if (!Number.isInteger(n) || n < 0) {
        throw new Error(`DEEPPROB_NATIVE_DIRECT must be an integer >= 0, got '${direct}'`);
      }
      addon.setDirectMaxChannels(n, 0);
    }
    return addon;
  } catch (e) {
    why.reason = e instanceof Error ? e.message : String(e);
    return undefined;
  }
}
