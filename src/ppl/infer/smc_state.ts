/**
 * The particles of `SMCFilter` (Pyro's `SMCState`): tensors by key, each with the `N` particles as
 * its leading dim, owned by the state, read-only while the guide runs, and resampled together
 * (`x ← x[index]` along the particle dim); and `SMCFailed`, the error when no particle keeps a
 * nonzero weight.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, DeepProbError } from '../../utils/errors.js';

/** No particle has a nonzero weight after a site (Pyro's `SMCFailed`). */
export class SMCFailed extends DeepProbError {
  constructor(message: string) {
    super(message);
    this.name = 'SMCFailed';
  }
}

/**
 * The particles' state (Pyro's `SMCState`): tensors by key, each with the `N` particles as its
 * leading dim. The state owns its tensors (`set` keeps a copy); a replaced value stays readable
 * until the end of the filter's current `init`/`step`.
 */
export class SMCState {
  private readonly values = new Map<string, tf.Tensor>();
  private retired: tf.Tensor[] = [];
  private locked = false;

  /** @param numParticles `N`, the leading dim of every value. */
  constructor(readonly numParticles: number) {
    if (!Number.isInteger(numParticles) || numParticles < 1) {
      throw new ArgumentError(
        'numParticles',
        `expected an integer >= 1, got ${String(numParticles)}`,
      );
    }
  }

  /** Number of keys. */
  get size(): number {
    return this.values.size;
  }

  /** Whether `key` is set. */
  has(key: string): boolean {
    return this.values.has(key);
  }

  /** The keys, in insertion order. */
  keys(): string[] {
    return [...this.values.keys()];
  }

  /**
   * The value of `key` (owned by the state: do not dispose it).
   * @throws ArgumentError naming `key` when it is not set.
   */
  get(key: string): tf.Tensor {
    const v = this.values.get(key);
    if (v === undefined) {
      throw new ArgumentError(
        'key',
        `no state '${String(key)}' (keys: ${this.keys().join(', ') || 'none'})`,
      );
    }
    return v;
  }

  /**
   * Set `key` to a copy of `value`, shape `[N, ...]`.
   * @throws ArgumentError naming `state` while the guide runs (a guide only reads the state), or
   *   `key` for a value that is not a live tensor with `N` first.
   */
  set(key: string, value: tf.Tensor): void {
    if (this.locked) {
      throw new ArgumentError(
        'state',
        `the guide cannot write to the SMC state (key '${String(key)}'): only the model does`,
      );
    }
    if (typeof key !== 'string' || key.length === 0) {
      throw new ArgumentError('key', `expected a non-empty string, got ${String(key)}`);
    }
    if (!(value instanceof tf.Tensor) || value.isDisposed) {
      throw new ArgumentError(key, 'expected a live tensor for the SMC state');
    }
    if (value.rank === 0 || value.shape[0] !== this.numParticles) {
      throw new ArgumentError(
        key,
        `expected a leading dim of ${this.numParticles} particles, got shape ` +
          `[${value.shape.join(',')}]`,
      );
    }
    const old = this.values.get(key);
    if (old !== undefined) this.retired.push(old);
    this.values.set(key, tf.keep(value.clone()));
  }

  /** Run `fn` with writes refused (the guide's run). @internal */
  readOnly<T>(fn: () => T): T {
    this.locked = true;
    try {
      return fn();
    } finally {
      this.locked = false;
    }
  }

  /** Every value gathered at `index` (resampling). @internal */
  resample(index: Int32Array): void {
    const idx = tf.tensor1d(index, 'int32');
    try {
      for (const [k, v] of this.values) {
        this.values.set(k, tf.keep(tf.gather(v, idx)));
        v.dispose();
      }
    } finally {
      idx.dispose();
    }
  }

  /** Free the values replaced during a step. @internal */
  releaseRetired(): void {
    tf.dispose(this.retired);
    this.retired = [];
  }

  /** Free every value and clear the state. */
  dispose(): void {
    this.releaseRetired();
    tf.dispose([...this.values.values()]);
    this.values.clear();
  }
}
