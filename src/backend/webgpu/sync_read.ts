/**
 * Synchronous reads (`dataSync`, `arraySync`) on the webgpu backend in Node.
 *
 * tfjs-backend-webgpu reads synchronously in browsers through an `OffscreenCanvas` (a WebGPU canvas
 * copied to a 2-D canvas), which Node lacks; deepprob's training step, SVI and metrics read scalars
 * synchronously. In Node the read is done as WebGPU does it asynchronously (copy to a mappable
 * staging buffer, `mapAsync`), and the event loop is turned by hand (`runLoopOnce`, from the
 * `deasync` package) until Dawn reports the buffer `mapped`: the state is polled, not the promise,
 * so this also works when called from inside a promise continuation (where microtasks cannot run).
 * While it waits, other event-loop callbacks (timers, IO) may run: the read is a blocking call
 * that is not atomic with respect to them, as with any re-entrant event-loop turn.
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

/**
 * Replace `backend.readSync` by a read through a staging buffer that turns the event loop with
 * `runLoopOnce` until the buffer is mapped (at most `timeoutMs`). Values already on the host,
 * strings and complex tensors go through the backend's own `readSync` (which recurses into this one
 * for the parts of a complex tensor). Installed once per backend instance.
 *
 * @param backend the `WebGPUBackend` instance (`tf.findBackend('webgpu')`).
 * @param runLoopOnce one turn of the Node event loop (`deasync.runLoopOnce`).
 * @param timeoutMs give up (throw) after this long without the buffer mapped.
 * @example
 * ```ts
 * installSyncRead(tf.findBackend('webgpu'), deasync.runLoopOnce);
 * tf.ones([2]).dataSync(); // works in Node
 * ```
 */
export function installSyncRead(
  backend: WebGPUBackendInternals,
  runLoopOnce: () => void,
  timeoutMs = 600_000,
): void {
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
    while (staging.mapState === 'pending' && failure === undefined) {
      if (Date.now() - start > timeoutMs) {
        throw new Error(`webgpu: synchronous read timed out after ${timeoutMs} ms`);
      }
      runLoopOnce();
    }
    if (failure !== undefined || staging.mapState !== 'mapped') {
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
