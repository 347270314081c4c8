import * as os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { backendInfo, describeBackend } from '../../src/index.js';
import { checkPinnedVersion } from '../../src/backend/kernels/index.js';
import { wantedWasmThreads } from '../../src/backend/threads.js';
import * as fs from 'node:fs';
import { nativeAddonPath } from '../../src/backend/native/load.js';

const saved = process.env.DEEPPROB_WASM_THREADS;
afterEach(() => {
  if (saved === undefined) delete process.env.DEEPPROB_WASM_THREADS;
  else process.env.DEEPPROB_WASM_THREADS = saved;
});

describe('wasm threads', () => {
  it('sizes the pool to the machine by default (1 when the native path runs matmul/conv)', async () => {
    delete process.env.DEEPPROB_WASM_THREADS;
    const cores = os.availableParallelism();
    const native = fs.existsSync(nativeAddonPath()) && process.env.DEEPPROB_NATIVE !== '0';
    const want = native ? 1 : Math.max(1, Math.min(cores, 8));
    expect(await wantedWasmThreads()).toBe(want);
    const nativeOld = process.env.DEEPPROB_NATIVE;
    process.env.DEEPPROB_NATIVE = '0';
    expect(await wantedWasmThreads()).toBe(Math.max(1, Math.min(cores, 8)));
    if (nativeOld === undefined) delete process.env.DEEPPROB_NATIVE;
    else process.env.DEEPPROB_NATIVE = nativeOld;
    const info = backendInfo();
    expect(info?.backend).toBe('wasm');
    if (saved === undefined && cores >= 2) expect(info?.threads).toBe(want);
    expect(describeBackend(info!)).toMatch(/thread/);
  });

  it('reads DEEPPROB_WASM_THREADS and rejects bad values', async () => {
    process.env.DEEPPROB_WASM_THREADS = '3';
    expect(await wantedWasmThreads()).toBe(3);
    process.env.DEEPPROB_WASM_THREADS = '64';
    expect(await wantedWasmThreads()).toBe(8);
    process.env.DEEPPROB_WASM_THREADS = 'two';
    await expect(wantedWasmThreads()).rejects.toThrow(/DEEPPROB_WASM_THREADS/);
  });
});

describe('version pin', () => {
  it('fails loudly on another tfjs version', () => {
    expect(() => checkPinnedVersion({ tfjs: '4.22.0', wasm: '4.22.0' })).not.toThrow();
    expect(() => checkPinnedVersion({ tfjs: '4.21.0', wasm: '4.22.0' })).toThrow(
      /pinned.*4\.22\.0/,
    );
    expect(() => checkPinnedVersion({ tfjs: '4.22.0', wasm: '5.0.0' })).toThrow(
      /DEEPPROB_KERNELS=stock/,
    );
    expect(() => checkPinnedVersion()).not.toThrow();
  });
});
