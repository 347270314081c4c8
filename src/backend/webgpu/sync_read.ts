/**
 * Synchronous reads (`dataSync`, `arraySync`) on the webgpu backend in Node.
 *
 * tfjs-backend-webgpu reads synchronously in browsers through an `OffscreenCanvas` (a WebGPU canvas
 * copied to a 2-D canvas), which Node lacks; deepprob's training step, SVI and metrics read scalars
 * synchronously. In Node the read is done as WebGPU does it asynchronously (copy to a mappable
 * staging buffer, `mapAsync`) and Dawn is ticked by hand until it reports the buffer `mapped`.
 *
 * Dawn's Node bindings advance their pending work (buffer maps, ...) from a native callback that
 * they schedule with `setImmediate` while work is pending. {@link captureDawnTicks} wraps
 * `globalThis.setImmediate` so that these native callbacks are also remembered; the read then
 * calls them directly in a loop. No other JavaScript runs while it waits (no event-loop turn: no
 * timer, IO callback or promise continuation can interleave with the read), and the state of the
 * staging buffer is polled, not its promise, so the read also works inside promise continuations.
 */
import * as tf from '@tensorflow/tfjs';

/** A `GPUBuffer`, as far as the read touches it. */
interface BufferLike {
  size: number;
  mapState: 'unmapped' | 'pending' | 'mapped';
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

/** The tfjs-backend-webgpu 4.22 internals the read uses. */
export interface WebGPUBackendInternals {
  tensorMap: {
    get(dataId: object): { dtype: tf.DataType; values: unknown; resource?: unknown } | undefined;
  };
  bufferManager: {
    acquireBuffer(size: number, usage: number): BufferLike;
    releaseBuffer(buffer: BufferLike): void;
  };
  commandEncoder: {
    copyBufferToBuffer(a: BufferLike, ao: number, b: BufferLike, bo: number, n: number): void;
  } | null;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: tf.BackendValues): tf.BackendValues;
  readSync(dataId: object): tf.BackendValues;
}

/** A native callback scheduled with `setImmediate`, not yet run. */
interface Tick {
  fn: () => void;
  done: boolean;
}

const pendingTicks = new Set<Tick>();
let captured = false;

function isNative(fn: unknown): boolean {
  return (
    typeof fn === 'function' &&
    /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
  );
}

/**
 * Wrap `globalThis.setImmediate` (once per process) so that native callbacks (Dawn's ticks) are
 * remembered until they run, by the event loop or by {@link runDawnTicks}, whichever comes first;
 * everything else passes through unchanged. Call before the WebGPU device is created.
 *
 * @example
 * ```ts
 * captureDawnTicks();
 * await tf.setBackend('webgpu');
 * ```
 */
export function captureDawnTicks(): void {
  if (captured) return;
  const g = globalThis as unknown as {
    setImmediate?: (fn: (...a: unknown[]) => void, ...a: unknown[]) => unknown;
  };
  const original = g.setImmediate;
  if (typeof original !== 'function') return;
  captured = true;
  const wrapped = (fn: (...a: unknown[]) => void, ...args: unknown[]): unknown => {
    if (!isNative(fn)) return (original as (...a: unknown[]) => unknown)(fn, ...args);
    const tick: Tick = { fn: () => fn(...args), done: false };
    pendingTicks.add(tick);
    return original(() => runTick(tick));
  };
  Object.defineProperty(wrapped, 'name', { value: 'setImmediate' });
  g.setImmediate = wrapped;
}

function runTick(tick: Tick): void {
  if (tick.done) return;
  tick.done = true;
  pendingTicks.delete(tick);
  tick.fn();
}

/**
 * Run the native callbacks scheduled so far (Dawn's ticks); the ones they schedule run on the next
 * call. Returns how many ran.
 */
export function runDawnTicks(): number {
  const now = [...pendingTicks];
  for (const t of now) runTick(t);
  return now.length;
}

/** WebGPU enums (`GPUBufferUsage`, `GPUMapMode`) from the globals installed for tfjs. */
function flags(): { COPY_DST: number; MAP_READ: number; READ: number } {
  const g = globalThis as unknown as {
    GPUBufferUsage: { COPY_DST: number; MAP_READ: number };
    GPUMapMode: { READ: number };
  };
  return {
    COPY_DST: g.GPUBufferUsage.COPY_DST,
    MAP_READ: g.GPUBufferUsage.MAP_READ,
    READ: g.GPUMapMode.READ,
  };
}

/** Sleep the thread for `ms` (lets the GPU's threads run while nothing is scheduled). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Replace `backend.readSync` by a read through a staging buffer that runs Dawn's ticks (see
 * {@link captureDawnTicks}) until the buffer is mapped, for at most `timeoutMs`. Values already on
 * the host, strings and complex tensors go through the backend's own `readSync` (which recurses
 * into this one for the parts of a complex tensor).
 *
 * @param backend the `WebGPUBackend` instance (`tf.findBackend('webgpu')`).
 * @param timeoutMs give up (throw) after this long without the buffer mapped.
 * @example
 * ```ts
 * installSyncRead(tf.findBackend('webgpu'));
 * tf.ones([2]).dataSync(); // works in Node
 * ```
 */
export function installSyncRead(backend: WebGPUBackendInternals, timeoutMs = 600_000): void {
  const own = backend.readSync.bind(backend);
  backend.readSync = (dataId: object): tf.BackendValues => {
    const data = backend.tensorMap.get(dataId);
    if (
      data === undefined ||
      data.values != null ||
      data.dtype === 'string' ||
      data.dtype === 'complex64'
    )
      return own(dataId);
    const source = data.resource as BufferLike;
    const f = flags();
    const staging = backend.bufferManager.acquireBuffer(source.size, f.COPY_DST | f.MAP_READ);
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.commandEncoder?.copyBufferToBuffer(source, 0, staging, 0, source.size);
    backend.submitQueue();
    let failure: unknown;
    staging.mapAsync(f.READ).catch((e: unknown) => {
      failure = e ?? new Error('mapAsync failed');
    });
    const start = Date.now();
    while (staging.mapState === 'pending') {
      if (Date.now() - start > timeoutMs) {
        throw new Error(`webgpu: synchronous read timed out after ${timeoutMs} ms`);
      }
      if (runDawnTicks() === 0) pause(1);
    }
    if (staging.mapState !== 'mapped') {
      backend.bufferManager.releaseBuffer(staging);
      throw failure instanceof Error
        ? failure
        : new Error(`webgpu: mapAsync failed (${String(failure ?? staging.mapState)})`);
    }
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    backend.bufferManager.releaseBuffer(staging);
    const values = tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype);
    return backend.convertAndCacheOnCPU(dataId, values);
  };
}
