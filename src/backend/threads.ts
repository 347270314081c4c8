/**
 * Multi-threaded wasm backend for Node. Node-only (imports Node built-ins): reached only through
 * `node_hooks.ts`, never from the browser entry.
 *
 * tfjs 4.22 disables wasm threads in Node: its pthread worker is passed as a Blob URL, which
 * `worker_threads` cannot load, and it caps XNNPACK's pool at (logical cores / 2). This module
 * re-registers the `wasm` backend factory so that it loads the threaded SIMD build with the worker
 * script written to a file, sizes the pool to the machine, and unreferences the pool's workers so
 * that a Node process still exits when its work is done.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { nativeAddonPath } from './native/load.js';
import { ArgumentError } from '../utils/errors.js';

const require = createRequire(import.meta.url);

/** Emscripten module of the threaded build (the parts we touch). */
interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
  tfjs?: Record<string, unknown>;
}

type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

let threadedCount = 0;

/** Number of XNNPACK threads of the threaded backend, 0 when the single-threaded one is in use. */
export function wasmThreads(): number {
  return threadedCount;
}

function writeWorkerFile(): string {
  const { wasmWorkerContents } =
    require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
      wasmWorkerContents: string;
    };
  // tfjs escapes newlines the same way before making its Blob: the string holds JS source whose
  // string literals contain raw newlines.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `deepprob-tfjs-wasm-${tf.version.tfjs}-${hash}.worker.cjs`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    fs.writeFileSync(tmp, source);
    fs.renameSync(tmp, file);
  }
  return file;
}

/**
 * `DEEPPROB_WASM_THREADS` as a positive integer, or undefined when unset or empty.
 *
 * @throws ArgumentError naming the variable when it is not a positive integer.
 */
export function wasmThreadsEnv(): number | undefined {
  const env = process.env.DEEPPROB_WASM_THREADS;
  if (env === undefined || env === '') return undefined;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) {
    throw new ArgumentError('DEEPPROB_WASM_THREADS', `expected a positive integer, got '${env}'`);
  }
  return n;
}

/**
 * Number of wasm threads to use: `DEEPPROB_WASM_THREADS` if set; otherwise 1 when the native
 * addon will run matmul and convolutions (its own pool), else the machine's logical cores (at
 * most 8, the size of tfjs's worker pool); 1 means the stock single-threaded build.
 */
export async function wantedWasmThreads(): Promise<number> {
  const n = wasmThreadsEnv();
  if (n !== undefined) return Math.min(n, 8);
  // With the native path on, matmul and convolutions run in its own thread pool; the threaded
  // wasm build would add a worker isolate (~140 MiB of RSS) for the few small ops left to XNNPACK.
  if (nativeWillRun()) return 1;
  const cores =
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(cores, 8));
}

/** Whether `ready()` will start the native addon: built, not `DEEPPROB_NATIVE=0`, kernel pack on. */
function nativeWillRun(): boolean {
  return (
    process.env.DEEPPROB_NATIVE !== '0' &&
    process.env.DEEPPROB_KERNELS !== 'stock' &&
    fs.existsSync(nativeAddonPath())
  );
}

/**
 * Register a `wasm` backend factory that uses the threaded SIMD build with `threads` threads.
 * Call before the wasm backend is first initialised.
 *
 * @param threads XNNPACK pool size (>= 2 to be useful).
 */
export async function registerThreadedWasm(threads: number): Promise<() => void> {
  const mainScript =
    require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as Factory;
  const wasmFile = path.join(path.dirname(mainScript), 'tfjs-backend-wasm-threaded-simd.wasm');
  const workerFile = writeWorkerFile();
  const original = tf.findBackendFactory('wasm');
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await factory({
        locateFile: (p: string, prefix: string) =>
          p.endsWith('.worker.js') ? workerFile : p.endsWith('.wasm') ? wasmFile : prefix + p,
        mainScriptUrlOrBlob: mainScript,
        // tfjs caps the pool at emscripten_num_logical_cores() / 2 when the pool is created;
        // report 2 * threads so the requested size is used.
        instantiateWasm: (
          info: { env: Record<string, unknown> },
          receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
        ) => {
          info.env.emscripten_num_logical_cores = () => 2 * threads;
          void WebAssembly.instantiate(fs.readFileSync(wasmFile), info as WebAssembly.Imports).then(
            (r) => receive(r.instance, r.module),
          );
          return {};
        },
      });
      module.tfjs = {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      };
      setThreadsCount(threads);
      const backend = new BackendWasm(
        module as unknown as ConstructorParameters<typeof BackendWasm>[0],
      );
      const pt = module.PThread;
      if (pt !== undefined) {
        for (const w of [...pt.runningWorkers, ...pt.unusedWorkers]) w.unref();
      }
      threadedCount = threads;
      return backend;
    },
    2,
  );
  /** Restore the stock factory (after a failed threaded start). */
  return () => {
    tf.removeBackend('wasm');
    threadedCount = 0;
    if (original !== null) tf.registerBackend('wasm', original, 2);
  };
}
