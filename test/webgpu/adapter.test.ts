/**
 * The webgpu plumbing that needs no GPU: software-adapter detection, the adapter shim for tfjs
 * 4.22, installing `navigator.gpu`, Dawn tick capture, and `ready()`'s refusal of a software
 * adapter in the automatic choice.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  describeAdapter,
  installNavigatorGpu,
  isSoftwareAdapter,
  randomNormalWebGPU,
  shimAdapter,
} from '../../src/backend/webgpu/index.js';
import { backendInfo } from '../../src/backend/ready.js';
import { randomNormal } from '../../src/backend/random.js';

describe('isSoftwareAdapter', () => {
  it.each([
    [{ vendor: 'google', architecture: 'swiftshader' }, true],
    [{ vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' }, true],
    [{ description: 'Microsoft Basic Render Driver' }, true],
    [{ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' }, false],
    [{ vendor: 'amd', architecture: 'rdna-3' }, false],
    [{}, false],
  ])('%o -> %s', (info, software) => {
    expect(isSoftwareAdapter(info)).toBe(software);
  });

  it('trusts the fallback flag of the adapter or its info', () => {
    expect(isSoftwareAdapter({ vendor: 'nvidia' }, true)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', isFallbackAdapter: true })).toBe(true);
  });

  it('describes adapters in one line', () => {
    expect(
      describeAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'H100' }, false),
    ).toBe('nvidia hopper (H100)');
    expect(describeAdapter({ vendor: 'google', architecture: 'swiftshader' }, true)).toBe(
      'google swiftshader, software',
    );
    expect(describeAdapter({}, false)).toBe('unknown adapter');
  });
});

describe('shimAdapter', () => {
  it('adds requestAdapterInfo from info (Dawn removed it; tfjs 4.22 may call it)', async () => {
    const info = { vendor: 'v', architecture: 'a' };
    const adapter = shimAdapter({ info } as {
      info: typeof info;
      requestAdapterInfo?: () => Promise<{ vendor?: string }>;
    });
    expect(await adapter.requestAdapterInfo?.()).toBe(info);
  });

  it('keeps an existing requestAdapterInfo', async () => {
    const own = (): Promise<{ vendor: string }> => Promise.resolve({ vendor: 'own' });
    const adapter = shimAdapter({ info: { vendor: 'x' }, requestAdapterInfo: own });
    expect(adapter.requestAdapterInfo).toBe(own);
  });
});

describe('installNavigatorGpu', () => {
  it('defines navigator.gpu and copies only missing globals', () => {
    const g = globalThis as unknown as Record<string, unknown>;
    const hadNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    const nav = g['navigator'] as { gpu?: unknown } | undefined;
    const previousGpu = nav?.gpu;
    const gpu = { requestAdapter: () => Promise.resolve(null) };
    g['DeepprobTestGlobal'] = 'mine';
    try {
      installNavigatorGpu(gpu, { DeepprobTestGlobal: 'theirs', DeepprobTestOther: 42 });
      expect((g['navigator'] as { gpu: unknown }).gpu).toBe(gpu);
      expect(g['DeepprobTestGlobal']).toBe('mine');
      expect(g['DeepprobTestOther']).toBe(42);
    } finally {
      delete g['DeepprobTestGlobal'];
      delete g['DeepprobTestOther'];
      const now = g['navigator'] as Record<string, unknown>;
      if (previousGpu !== undefined)
        Object.defineProperty(now, 'gpu', { value: previousGpu, configurable: true });
      else if (hadNavigator === undefined) delete g['navigator'];
      else delete now['gpu'];
    }
  });
});

describe('randomNormalWebGPU', () => {
  it('fills host memory with the same bits as the wasm/cpu kernel', () => {
    const before = tf.memory().numTensors;
    const ref = randomNormal([257], 1.5, 0.5, 4242);
    let captured: Float32Array | undefined;
    const fake = {
      makeTensorInfo: (shape: number[], dtype: tf.DataType, values: Float32Array) => {
        captured = values;
        return { dataId: {}, shape, dtype };
      },
    };
    const info = randomNormalWebGPU({
      attrs: { shape: [257], mean: 1.5, stdDev: 0.5, seed: 4242 } as unknown as tf.NamedAttrMap,
      backend: fake,
    });
    expect(info.shape).toEqual([257]);
    expect(Array.from(captured ?? [])).toEqual(Array.from(ref.dataSync()));
    tf.dispose(ref);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ready() in Node', () => {
  it('tried webgpu before wasm and says why it was not taken', () => {
    const info = backendInfo();
    expect(info?.backend).toBe('wasm');
    const skip = info?.skipped.find((s) => s.backend === 'webgpu');
    expect(skip?.reason).toMatch(
      /software adapter|no WebGPU adapter|not installed|not loadable|no GPU device node/,
    );
  });
});
