/**
 * Run the same computation on wasm and on webgpu (SwiftShader when no GPU is present) and compare.
 * `webgpuForTests()` points Vulkan at Debian chromium's SwiftShader when `VK_ICD_FILENAMES` is
 * unset, starts the webgpu backend (software adapters allowed) and switches back to wasm; it
 * returns why webgpu is unavailable, printed by the suites that skip.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initWebGPU } from '../../src/backend/webgpu/index.js';

const SWIFTSHADER = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

let status: Promise<string | undefined> | undefined;

/** Start webgpu once per test file; resolves to undefined when usable, else the reason. */
export function webgpuForTests(): Promise<string | undefined> {
  status ??= (async () => {
    if (process.env['VK_ICD_FILENAMES'] === undefined) {
      const icd = SWIFTSHADER.find((f) => existsSync(f));
      if (icd !== undefined) process.env['VK_ICD_FILENAMES'] = icd;
    }
    process.env['XDG_RUNTIME_DIR'] ??= tmpdir();
    const base = tf.getBackend();
    const why = await initWebGPU(true);
    await tf.setBackend(base);
    if (why !== undefined) console.warn(`SKIPPED webgpu tests: ${why}`);
    return why;
  })();
  return status;
}

/** Run `fn` with `name` as the active backend, then restore wasm. */
export async function onBackend<T>(name: string, fn: () => T): Promise<T> {
  await tf.setBackend(name);
  try {
    return fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

/** Values of tensors as plain arrays (read on the active backend). */
export function values(ts: tf.Tensor[]): number[][] {
  return ts.map((t) => Array.from(t.dataSync()));
}
