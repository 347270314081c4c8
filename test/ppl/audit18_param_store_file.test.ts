/**
 * Audit 18 (reliability, round 2): a saved parameter store whose description (`store.json`) was
 * damaged past what its SHA-256 of the weights covers. A name listed twice loaded silently (the
 * second value won), a missing name installed a parameter named `undefined`, a negative dim gave
 * tfjs's raw "Tensor must have a shape comprised of positive integers", and the errors of
 * `ParamStore.load` named the in-memory `saved.*` argument instead of the file. A FIFO blocked the
 * load forever. Each is an ArgumentError naming the file, and the store is left unchanged.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { loadParamStore, saveParamStore } from '../../src/ppl/param_store_file.js';
import { ArgumentError } from '../../src/utils/errors.js';

const root = mkdtempSync(join(tmpdir(), 'deepprob-a18-ps-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Spec = { params: Record<string, unknown>[] } & Record<string, unknown>;

describe('loadParamStore: a damaged description', () => {
  const saved = new ppl.ParamStore();
  saved.set('a', [1, 2, 3]);
  saved.set('b', 2, ppl.constraints.positive);
  const path = join(root, 'store.json');
  saveParamStore(path, saved);
  const spec = JSON.parse(readFileSync(path, 'utf8')) as Spec;
  let n = 0;

  /** A copy of the description, edited; it keeps naming the saved weight file. */
  function edited(edit: (s: Spec) => void): string {
    const s = JSON.parse(JSON.stringify(spec)) as Spec;
    edit(s);
    const p = join(root, `e${n++}.json`);
    writeFileSync(p, JSON.stringify(s));
    return p;
  }

  function refused(p: string, expected: RegExp): void {
    const store = new ppl.ParamStore();
    store.set('keep', [5]);
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      loadParamStore(p, store);
    } catch (e) {
      err = e;
    }
    expect(err, p).toBeInstanceOf(ArgumentError);
    const msg = (err as Error).message;
    expect(msg).toContain(p);
    expect(msg).toMatch(expected);
    expect(msg).not.toMatch(/Tensor must have a shape/);
    expect(store.names()).toEqual(['keep']);
    expect(tf.memory().numTensors).toBe(before);
    store.clear();
  }

  it('a name listed twice (loaded silently, the second value won)', () => {
    refused(
      edited((s) => {
        (s.params[1] as Record<string, unknown>).name = 'a';
      }),
      /params\[1\]: parameter 'a' appears twice/,
    );
  });

  it('a missing or empty name (a parameter named undefined was installed)', () => {
    refused(
      edited((s) => {
        delete (s.params[0] as Record<string, unknown>).name;
      }),
      /params\[0\]: expected a parameter name, got undefined/,
    );
    refused(
      edited((s) => {
        (s.params[0] as Record<string, unknown>).name = '';
      }),
      /params\[0\]: expected a parameter name/,
    );
  });

  it('a negative or fractional dim (tfjs raw message)', () => {
    for (const shape of [[-3], [1.5, 2], ['3']]) {
      refused(
        edited((s) => {
          (s.params[0] as Record<string, unknown>).shape = shape;
        }),
        /params\[0\]: param 'a' has shape .*: expected integers >= 0/,
      );
    }
  });

  it('an offset outside the weights names the file', () => {
    refused(
      edited((s) => {
        (s.params[0] as Record<string, unknown>).offset = 0.5;
      }),
      /saved\.weights: param 'a' needs 3 values at offset 0\.5/,
    );
  });

  it('a FIFO is refused at once (the load blocked on it)', () => {
    const fifo = join(root, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    refused(fifo, /not a regular file/);
  });

  it('the undamaged file still loads every value', () => {
    const store = new ppl.ParamStore();
    loadParamStore(path, store);
    expect(tf.tidy(() => Array.from(store.value('a').dataSync()))).toEqual([1, 2, 3]);
    expect(tf.tidy(() => store.value('b').dataSync()[0])).toBeCloseTo(2, 6);
    store.clear();
  });
});
