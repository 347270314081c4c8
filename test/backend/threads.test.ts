import * as os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { backendInfo, describeBackend } from '../../src/index.js';
import { checkPinnedVersion } from '../../src/backend/kernels/index.js';
import { wantedWasmThreads } from '../../src/backend/threads.js';

const saved = process.env.DEEPPROB_WASM_THREADS;
afterEach(() => {
  if (saved === undefined) delete process.env.DEEPPROB_WASM_THREADS;
  else process.env.DEEPPROB_WASM_THREADS = saved;
});

describe('wasm threads', () => {
  it('sizes the pool to the machine by default', async () => {
    delete process.env.DEEPPROB_WASM_THREADS;
    const cores = os.availableParallelism();
    expect(await wantedWasmThreads()).toBe(Math.max(1, Math.min(cores, 8)));
    const info = backendInfo();
    expect(info?.backend).toBe('wasm');
    if (saved === undefined && cores >= 2) expect(info?.threads).toBe(Math.min(cores, 8));
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
