import * as tf from '@tensorflow/tfjs';
import { afterAll, expect } from 'vitest';
import { clearSeed, ppl, ready } from '../src/index.js';
import { HANDLER_STACK } from '../src/ppl/runtime.js';

await ready();

// Test files share a worker process (vitest.config.ts: `isolate: false`), and this file runs
// before each of them: each starts as in a fresh process — on the first backend (a file that
// switched it and did not switch it back must not run the next file on it), with no global seed
// (a file's draws must not depend on which file ran before it in the worker), an empty param
// store and site validation on.
const shared = globalThis as { deepprobTestBackend?: string };
shared.deepprobTestBackend ??= tf.getBackend();
if (tf.getBackend() !== shared.deepprobTestBackend) await tf.setBackend(shared.deepprobTestBackend);
clearSeed();
ppl.clearParamStore();
ppl.enableValidation(true);
// and with no effect handler left on the PPL's stack by the file before (one is reported here)
HANDLER_STACK.length = 0;
afterAll(() => {
  if (HANDLER_STACK.length > 0) {
    console.warn(
      `deepprob test setup: this file left ${HANDLER_STACK.length} PPL handler(s) on the stack`,
    );
  }
});

interface AllcloseOptions {
  rtol?: number;
  atol?: number;
}

function flatten(x: unknown): number[] {
  if (typeof x === 'number') return [x];
  if (
    x !== null &&
    typeof x === 'object' &&
    'dataSync' in x &&
    typeof (x as { dataSync: unknown }).dataSync === 'function'
  ) {
    return Array.from((x as { dataSync: () => ArrayLike<number> }).dataSync());
  }
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  if (Array.isArray(x)) return x.flatMap(flatten);
  throw new Error(`toBeAllclose: cannot read ${String(x)}`);
}

expect.extend({
  toBeAllclose(actual: unknown, expected: unknown, opts: AllcloseOptions = {}) {
    const { rtol = 1e-5, atol = 1e-6 } = opts;
    const a = flatten(actual);
    const e = flatten(expected);
    const n = e.length === 1 ? a.length : e.length;
    if (a.length !== n) {
      return { pass: false, message: () => `length ${a.length} != ${e.length}` };
    }
    let worst = -1;
    let worstErr = 0;
    for (let i = 0; i < n; i++) {
      const ai = a[i] as number;
      const ei = (e.length === 1 ? e[0] : e[i]) as number;
      const ok =
        (Number.isNaN(ai) && Number.isNaN(ei)) ||
        ai === ei ||
        Math.abs(ai - ei) <= atol + rtol * Math.abs(ei);
      if (!ok) {
        const err = Math.abs(ai - ei);
        if (worst < 0 || err > worstErr) {
          worst = i;
          worstErr = err;
        }
      }
    }
    return {
      pass: worst < 0,
      message: () =>
        worst < 0
          ? 'expected arrays not to be close'
          : `arrays differ at ${worst}: ${a[worst]} vs ${e.length === 1 ? e[0] : e[worst]} (rtol ${rtol}, atol ${atol})`,
    };
  },
});
