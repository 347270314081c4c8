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
import { ArgumentError } from '../../utils/errors.js';
import type { NativeAddon } from './addon.js';

const require = createRequire(import.meta.url);

/** Path of the built addon: `<package>/native/build/deepprob_native.node`. */
export function nativeAddonPath(): string {
  return fileURLToPath(new URL('../../../native/build/deepprob_native.node', import.meta.url));
}

/** Threads wanted by the native pool (`DEEPPROB_NATIVE_THREADS`, else available parallelism). */
export function nativeThreads(): number {
  return nativeEnv().threads;
}

/** The native path's switches as read from the environment (see the module's TSDoc). */
export interface NativeEnv {
  /** `DEEPPROB_NATIVE=0`: the path is off. */
  off: boolean;
  /** Threads of the pool, `1..16`. */
  threads: number;
  /** Instruction-set cap (`'avx2'`, `'sse'`), or `''` for the best the CPU has. */
  isa: string;
  /** Most input channels of a direct convolution, when set. */
  direct?: number;
}

/**
 * Read and check the native path's environment: `DEEPPROB_NATIVE` (`0` or `1`),
 * `DEEPPROB_NATIVE_THREADS` (an integer in `[1, 16]`), `DEEPPROB_NATIVE_ISA` (`avx512`, `avx2` or
 * `sse`), `DEEPPROB_NATIVE_DIRECT` (an integer `>= 0`); empty values mean the default.
 *
 * @returns the switches.
 * @throws ArgumentError naming the variable and what it takes, before anything is loaded (a typo
 *   used to switch the native path off silently, or was ignored).
 */
export function nativeEnv(): NativeEnv {
  const read = (name: string): string | undefined => {
    const v = process.env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const onOff = read('DEEPPROB_NATIVE');
  if (onOff !== undefined && onOff !== '0' && onOff !== '1') {
    throw new ArgumentError('DEEPPROB_NATIVE', `expected 0 (off) or 1 (on), got '${onOff}'`);
  }
  const t = read('DEEPPROB_NATIVE_THREADS');
  let threads = Math.min(16, Math.max(1, os.availableParallelism()));
  if (t !== undefined) {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1 || n > 16) {
      throw new ArgumentError(
        'DEEPPROB_NATIVE_THREADS',
        `expected an integer in [1, 16], got '${t}'`,
      );
    }
    threads = n;
  }
  const isa = read('DEEPPROB_NATIVE_ISA') ?? '';
  if (isa !== '' && !['avx512', 'avx2', 'sse'].includes(isa)) {
    throw new ArgumentError('DEEPPROB_NATIVE_ISA', `expected avx512, avx2 or sse, got '${isa}'`);
  }
  const d = read('DEEPPROB_NATIVE_DIRECT');
  let direct: number | undefined;
  if (d !== undefined) {
    direct = Number(d);
    if (!Number.isInteger(direct) || direct < 0) {
      throw new ArgumentError('DEEPPROB_NATIVE_DIRECT', `expected an integer >= 0, got '${d}'`);
    }
  }
  return { off: onOff === '0', threads, isa, ...(direct === undefined ? {} : { direct }) };
}

/**
 * Load and start the native addon; undefined when `DEEPPROB_NATIVE=0`, when it was not built, or
 * when it cannot be loaded here (then the reason is in `why`).
 *
 * @returns the started addon, or undefined.
 * @throws ArgumentError for a malformed switch (see {@link nativeEnv}).
 */
export function loadNativeAddon(why: { reason?: string } = {}): NativeAddon | undefined {
  const env = nativeEnv();
  if (env.off) {
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
    addon.init(env.threads, env.isa === 'avx512' ? '' : env.isa);
    if (env.direct !== undefined) addon.setDirectMaxChannels(env.direct, 0);
    return addon;
  } catch (e) {
    why.reason = e instanceof Error ? e.message : String(e);
    return undefined;
  }
}
