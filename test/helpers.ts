import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { ArgumentError } from '../src/utils/errors.js';

/**
 * Run `fn`, dispose what it returns, and assert the number of live tensors is unchanged.
 * Use it around every public call in tests: memory is correctness.
 */
export function expectNoLeak(fn: () => tf.Tensor | tf.Tensor[] | void): number[] {
  const before = tf.memory().numTensors;
  const out = fn();
  const values = out instanceof tf.Tensor ? Array.from(out.dataSync()) : [];
  disposeAll(out);
  expect(tf.memory().numTensors).toBe(before);
  return values;
}

/** Async variant of {@link expectNoLeak}. */
export async function expectNoLeakAsync<T>(fn: () => Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  disposeAll(out);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function disposeAll(x: unknown): void {
  if (x instanceof tf.Tensor) x.dispose();
  else if (Array.isArray(x)) x.forEach(disposeAll);
}

/** Central finite-difference gradient of a scalar function of a flat parameter vector (float64). */
export function finiteDiff(f: (x: number[]) => number, x: number[], h = 1e-3): number[] {
  return x.map((_, i) => {
    const xp = [...x];
    const xm = [...x];
    xp[i] = (xp[i] as number) + h;
    xm[i] = (xm[i] as number) - h;
    return (f(xp) - f(xm)) / (2 * h);
  });
}

/**
 * Central finite-difference gradient of `objective()` in the variable `w`:
 * `∂f/∂θ_i ≈ (f(θ + h e_i) - f(θ - h e_i)) / 2h`, each evaluation with `w` assigned the
 * perturbed values (the objective must fix its own noise, e.g. by a seed); `w` is restored.
 */
export function variableFiniteDiff(w: tf.Variable, objective: () => tf.Scalar, h = 1e-3): number[] {
  const original = w.dataSync().slice();
  const f = (theta: number[]): number =>
    tf.tidy(() => {
      w.assign(tf.tensor(theta, w.shape));
      return objective().dataSync()[0] as number;
    });
  try {
    return finiteDiff(f, Array.from(original), h);
  } finally {
    tf.tidy(() => w.assign(tf.tensor(original, w.shape)));
  }
}

/** The error `fn()` throws, or `undefined` when it returns (for asserting on the error itself). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/**
 * Asserts that `fn()` throws an `ArgumentError` whose `argument` is `argument` and whose message
 * matches `message`.
 */
export function expectArgumentError(fn: () => unknown, argument: string, message: RegExp): void {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(ArgumentError);
  expect((err as ArgumentError).argument).toBe(argument);
  expect((err as ArgumentError).message).toMatch(message);
}

/**
 * Asserts that `fn()` throws an `ArgumentError` whose message contains `name` (the argument or
 * site it names) and, when given, `text`.
 */
export function expectArgumentErrorNaming(fn: () => unknown, name: string, text?: string): void {
  const err = thrown(fn);
  expect(err, `expected an ArgumentError naming ${name}`).toBeInstanceOf(ArgumentError);
  expect(String((err as Error).message)).toContain(name);
  if (text !== undefined) expect(String((err as Error).message)).toContain(text);
}

/** One bad call of a bad-input table and the argument its error must name. */
export interface BadInputCase {
  /** What the call is (the test's title). */
  call: string;
  /** Runs the bad call (tensors it needs are made by `setup` or inside and disposed here). */
  run: () => unknown;
  /** The argument (option, site) the `ArgumentError` must name. */
  arg: string | RegExp;
  /** A part of the message, when it matters. */
  message?: RegExp;
}

/**
 * Run one row of a bad-input table: the call must throw (or reject with) an `ArgumentError` naming
 * `c.arg`, and leave the number of live tensors unchanged.
 */
export async function expectBadInput(c: BadInputCase): Promise<void> {
  const before = tf.memory().numTensors;
  let err: unknown;
  try {
    const out = await c.run();
    disposeAll(out);
  } catch (e) {
    err = e;
  }
  expect(err, `no ArgumentError: ${String(err)}`).toBeInstanceOf(ArgumentError);
  expect(tf.memory().numTensors, 'tensors leaked by the failing call').toBe(before);
  const a = (err as ArgumentError).argument;
  if (typeof c.arg === 'string') expect(a).toBe(c.arg);
  else expect(a).toMatch(c.arg);
  if (c.message !== undefined) expect((err as Error).message).toMatch(c.message);
}

/** Save `model` to memory (`tf.io.withSaveHandler`) and load it back with `tf.loadLayersModel`. */
export async function saveAndLoad(model: tf.LayersModel): Promise<tf.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      saved = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
}
