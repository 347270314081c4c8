/**
 * Audit of the CPU engine's paths and runtime (issue 19): the native path with N threads against
 * 1 thread (same numbers), against the wasm path (`DEEPPROB_NATIVE=0`, what runs when the addon is
 * missing or fails to load) and the cpu backend, in child processes; the native kernels switched
 * off in-process; two models trained concurrently in one process against each trained alone; no
 * tensor and no resident memory growth over 300 calls; malformed switches refused by `ready()`
 * with an `ArgumentError` naming the variable.
 */
import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../src/utils/errors.js';
import { nativeEnabled, setNativeEnabled } from '../../src/backend/native/kernels.js';
import { nativeAddonPath, nativeEnv } from '../../src/backend/native/load.js';
import { wasmThreadsEnv } from '../../src/backend/threads.js';
import { engineWorkload, netBatch, netParams, netStep, type Workload } from './audit15_workload.js';

/**
 * V8's full garbage collection, reached without `--expose-gc` on the command line. Twice: on a
 * loaded machine the pages one collection frees reach the OS only at the next.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

const built = fs.existsSync(nativeAddonPath()) && process.env['DEEPPROB_NATIVE'] !== '0';

interface ChildResult {
  info: { backend: string; native?: string; nativeOff?: string };
  tensors: number;
  out: Workload;
}

/** Run the workload in a child process with `env` added; resolves to its JSON (or the error). */
function child(env: Record<string, string>): Promise<ChildResult> {
  return new Promise((res, rej) => {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', resolve(import.meta.dirname, 'audit15_paths_child.ts')],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', rej);
    p.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined)
        rej(new Error(`child exited ${code}: ${err.slice(-2000)}`));
      else res(JSON.parse(line) as ChildResult);
    });
  });
}

/** Largest |a - b| / (atol + rtol * max|b|) over each named result. */
function expectWorkloadsClose(got: Workload, want: Workload, rtol: number, what: string): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const [k, w] of Object.entries(want)) {
    const g = got[k] as number[];
    expect(g.length, `${what} ${k}`).toBe(w.length);
    const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
    let worst = 0;
    for (let i = 0; i < w.length; i++) {
      expect(Number.isFinite(g[i]), `${what} ${k}[${i}] finite`).toBe(true);
      worst = Math.max(worst, Math.abs((g[i] as number) - (w[i] as number)) / scale);
    }
    expect(worst, `${what} ${k}: worst relative difference`).toBeLessThanOrEqual(rtol);
  }
}

describe('engine audit: paths give the same numbers', () => {
  it.skipIf(!built)(
    '1 vs N native threads, the SSE kernels, the wasm path (addon off), the cpu backend, and native off in-process',
    async () => {
      const before = tf.memory().numTensors;
      const here = await engineWorkload();
      expect(tf.memory().numTensors).toBe(before);
      expect(nativeEnabled()).toBe(true);
      setNativeEnabled(false);
      let wasmHere: Workload;
      try {
        wasmHere = await engineWorkload();
      } finally {
        setNativeEnabled(true);
      }
      const [one, wasm, cpu, sse] = await Promise.all([
        child({ DEEPPROB_NATIVE_THREADS: '1' }),
        child({ DEEPPROB_NATIVE: '0' }),
        child({ DEEPPROB_BACKEND: 'cpu' }),
        child({ DEEPPROB_NATIVE_ISA: 'sse' }), // the micro-kernels of CPUs without AVX2
      ]);
      expect(sse.info.native).toMatch(/^native sse/);
      expectWorkloadsClose(sse.out, cpu.out, 2e-5, 'native sse vs cpu backend');
      expect(one.info.native).toMatch(/1 thread/);
      expect(wasm.info.native).toBeUndefined();
      expect(wasm.info.nativeOff).toBe('DEEPPROB_NATIVE=0');
      expect(cpu.info.backend).toBe('cpu');
      for (const r of [one, wasm, cpu, sse]) expect(r.tensors).toBe(0);
      // forward passes and input gradients split rows and images, never a sum: the same bits with
      // 1 or N threads; filter gradients (and training, which uses them) sum per-thread partial
      // sums over the images, so the rounding differs with the thread count (documented)
      const exact = (k: string): boolean => !/\.dw$|^net\.|^layers\./.test(k);
      const split = (w: Workload, keep: boolean): Workload =>
        Object.fromEntries(Object.entries(w).filter(([k]) => exact(k) === keep));
      expectWorkloadsClose(split(one.out, true), split(here, true), 0, 'native 1 thread vs N');
      expectWorkloadsClose(split(one.out, false), split(here, false), 1e-5, 'native 1 thread vs N');
      expectWorkloadsClose(wasm.out, here, 2e-5, 'wasm path vs native');
      expectWorkloadsClose(wasmHere, here, 2e-5, 'native off in-process vs on');
      expectWorkloadsClose(cpu.out, here, 2e-5, 'cpu backend vs native');
    },
    120_000,
  );
});

describe('engine audit: concurrency and memory', () => {
  it('two models trained concurrently in one process end where each trained alone ends', async () => {
    const train = async (seed: number, steps: number, log: number[]): Promise<tf.Variable[]> => {
      const p = netParams(seed);
      const [x, y] = netBatch(seed + 10);
      for (let i = 0; i < steps; i++) {
        log.push(netStep(p, x, y));
        await new Promise((r) => setImmediate(r)); // let the other model run a step
      }
      tf.dispose([x, y]);
      return p;
    };
    const before = tf.memory().numTensors;
    const aloneA: number[] = [];
    const aloneB: number[] = [];
    const pa = await train(100, 5, aloneA);
    const pb = await train(200, 5, aloneB);
    const bothA: number[] = [];
    const bothB: number[] = [];
    const [qa, qb] = await Promise.all([train(100, 5, bothA), train(200, 5, bothB)]);
    expect(bothA).toEqual(aloneA);
    expect(bothB).toEqual(aloneB);
    expect(aloneA[4]).toBeLessThan(aloneA[0] as number); // it trains
    for (const [p, q] of [
      [pa, qa],
      [pb, qb],
    ] as [tf.Variable[], tf.Variable[]][]) {
      p.forEach((v, i) =>
        expect(Array.from(q[i]?.dataSync() ?? [])).toEqual(Array.from(v.dataSync())),
      );
    }
    tf.dispose([...pa, ...pb, ...qa, ...qb]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('no tensor and no resident-memory growth over 300 forward + backward calls', () => {
    const x = tf.tensor(
      new Float32Array(4 * 12 * 12 * 8).map((_, i) => Math.sin(i)),
      [4, 12, 12, 8],
    );
    const w = tf.tensor(
      new Float32Array(3 * 3 * 8 * 64).map((_, i) => Math.cos(i) * 0.1),
      [3, 3, 8, 64],
    );
    const step = (): void => {
      tf.tidy(() => {
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))),
        )([x, w]);
        const m = tf.matMul(
          tf.reshape(dx as tf.Tensor, [48, 96]),
          tf.reshape(dw as tf.Tensor, [96, 48]),
          true,
          true,
        );
        m.dataSync();
      });
    };
    for (let i = 0; i < 20; i++) step(); // warm-up: heap and pools at their working size
    const tensors = tf.memory().numTensors;
    // RSS moves with the garbage collector: on a loaded machine (CI on Node 24) garbage piled up to
    // 18 MiB per window before a collection. So the collector runs before each reading, and a leak,
    // which grows every window, is told from noise by the least growth of three windows of 100
    // calls (a leak of >= 120 KB per call, one conv output here, adds >= 12 MiB to each)
    const growths: number[] = [];
    for (let win = 0; win < 3; win++) {
      collectGarbage();
      const rss0 = process.memoryUsage().rss;
      for (let i = 0; i < 100; i++) step();
      collectGarbage();
      growths.push(process.memoryUsage().rss - rss0);
    }
    expect(tf.memory().numTensors).toBe(tensors);
    const least = Math.min(...growths);
    expect(least, `RSS grew by ${growths.map((g) => (g / 2 ** 20).toFixed(1))} MiB`).toBeLessThan(
      12 * 2 ** 20,
    );
    tf.dispose([x, w]);
  });
});

describe('engine audit: malformed switches', () => {
  const names = [
    'DEEPPROB_NATIVE',
    'DEEPPROB_NATIVE_THREADS',
    'DEEPPROB_NATIVE_ISA',
    'DEEPPROB_NATIVE_DIRECT',
    'DEEPPROB_WASM_THREADS',
  ];
  const withEnv = <T>(name: string, value: string, f: () => T): T => {
    const saved = process.env[name];
    process.env[name] = value;
    try {
      return f();
    } finally {
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    }
  };

  it('each malformed value is an ArgumentError naming the variable; good values pass', () => {
    const bad: [string, string][] = [
      ['DEEPPROB_NATIVE', 'yes'],
      ['DEEPPROB_NATIVE_THREADS', 'two'],
      ['DEEPPROB_NATIVE_THREADS', '0'],
      ['DEEPPROB_NATIVE_THREADS', '17'],
      ['DEEPPROB_NATIVE_THREADS', '1.5'],
      ['DEEPPROB_NATIVE_ISA', 'avx3'],
      ['DEEPPROB_NATIVE_DIRECT', '-1'],
      ['DEEPPROB_WASM_THREADS', 'x'],
    ];
    for (const [name, value] of bad) {
      const check = (): unknown =>
        withEnv(name, value, () =>
          name === 'DEEPPROB_WASM_THREADS' ? wasmThreadsEnv() : nativeEnv(),
        );
      expect(check, `${name}=${value}`).toThrow(ArgumentError);
      expect(check, `${name}=${value}`).toThrow(new RegExp(`^${name}: `));
    }
    expect(withEnv('DEEPPROB_NATIVE_THREADS', '3', () => nativeEnv().threads)).toBe(3);
    expect(withEnv('DEEPPROB_NATIVE_ISA', 'sse', () => nativeEnv().isa)).toBe('sse');
    expect(withEnv('DEEPPROB_NATIVE', '0', () => nativeEnv().off)).toBe(true);
    expect(withEnv('DEEPPROB_WASM_THREADS', '', () => wasmThreadsEnv())).toBeUndefined();
    expect(names.length).toBe(5);
  });

  it('ready() in a fresh process refuses DEEPPROB_NATIVE_THREADS=two before starting a backend', async () => {
    await expect(child({ DEEPPROB_NATIVE_THREADS: 'two' })).rejects.toThrow(
      /ArgumentError: DEEPPROB_NATIVE_THREADS: expected an integer in \[1, 16\], got 'two'/,
    );
  });
});
