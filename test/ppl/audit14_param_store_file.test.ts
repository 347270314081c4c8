/**
 * Audit (#16, fresh eyes): the parameter-store files of `saveParamStore` / `loadParamStore`
 * (an SVI fit saved and resumed). A save killed at every file-system call loads as the previous
 * or the new store, never a mix; a description naming a weight file outside its folder, a
 * missing, truncated, padded, bit-flipped or NaN weight file each give an ArgumentError naming
 * the file, change nothing in the store and leak no tensor.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { loadParamStore, saveParamStore } from '../../src/ppl/param_store_file.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { fsOps } from '../../src/utils/file_io.js';

const real = { ...fsOps };
afterEach(() => {
  Object.assign(fsOps, real);
  ppl.clearParamStore();
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'deepprob-audit14-ps-'));

/** A store of several shapes and constraints, values shifted by `v`. */
function fill(store: ppl.ParamStore, v: number, extra = false): void {
  store.set('loc', [0.5 + v, -1.25]);
  store.set('scale', [[0.3 + v / 10, 0.7]], ppl.constraints.positive);
  store.set(
    'w',
    tf.tidy(() => tf.fill([2, 3, 4], v)),
  );
  store.set('p', 0.25, ppl.constraints.unitInterval);
  if (extra) store.set('added', [v, v, v, v, v]);
}

/** name -> constrained values of a store. */
function snapshot(store: ppl.ParamStore): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const n of store.names()) {
    const t = store.value(n);
    out[n] = Array.from(t.dataSync());
    t.dispose();
  }
  return out;
}

class Crash extends Error {}

function crashAt(k: number): void {
  let n = 0;
  const wrap =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      n += 1;
      if (n >= k) throw new Crash(`crash at ${n}`);
      return f(...a);
    };
  fsOps.writeFileSync = wrap(real.writeFileSync) as typeof fsOps.writeFileSync;
  fsOps.renameSync = wrap(real.renameSync) as typeof fsOps.renameSync;
  fsOps.mkdirSync = wrap(real.mkdirSync) as typeof fsOps.mkdirSync;
  fsOps.fsync = wrap(real.fsync);
}

/** The load's error (store and tensor count unchanged on the way). */
function loadError(path: string, store: ppl.ParamStore): Error {
  const before = tf.memory().numTensors;
  const snap = snapshot(store);
  let err: Error | undefined;
  try {
    loadParamStore(path, store);
  } catch (e) {
    err = e as Error;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(snapshot(store)).toEqual(snap);
  if (err === undefined) throw new Error(`loading ${path} succeeded`);
  expect(err, err.message).toBeInstanceOf(ArgumentError);
  expect(err.message).not.toMatch(/ENOENT|EISDIR|TypeError|Cannot read/);
  return err;
}

describe('saveParamStore / loadParamStore: files', () => {
  it('round-trips every value bit for bit, and the weight file is 4 bytes per unconstrained value', () => {
    const dir = tmp();
    const a = new ppl.ParamStore();
    fill(a, 0.375, true);
    const file = join(dir, 'fit.json');
    saveParamStore(file, a);
    expect(readFileSync(join(dir, 'fit.weights.bin')).length).toBe(4 * (2 + 2 + 24 + 1 + 5));
    const b = new ppl.ParamStore();
    loadParamStore(file, b);
    expect(b.names()).toEqual(a.names());
    for (const n of a.names()) {
      expect(Array.from(b.unconstrained(n).dataSync()), n).toEqual(
        Array.from(a.unconstrained(n).dataSync()),
      );
    }
    expect(readdirSync(dir).sort()).toEqual(['fit.json', 'fit.weights.bin']);
    a.clear();
    b.clear();
  });

  it('a save killed at every file-system call loads as the previous or the new store, never a mix', () => {
    // count the calls of one save
    const probe = tmp();
    const s0 = new ppl.ParamStore();
    fill(s0, 0);
    saveParamStore(join(probe, 'fit.json'), s0);
    let calls = 0;
    const count =
      <A extends unknown[], R>(f: (...a: A) => R) =>
      (...a: A): R => {
        calls += 1;
        return f(...a);
      };
    fsOps.writeFileSync = count(real.writeFileSync) as typeof fsOps.writeFileSync;
    fsOps.renameSync = count(real.renameSync) as typeof fsOps.renameSync;
    fsOps.mkdirSync = count(real.mkdirSync) as typeof fsOps.mkdirSync;
    fsOps.fsync = count(real.fsync);
    saveParamStore(join(probe, 'fit.json'), s0);
    Object.assign(fsOps, real);
    expect(calls).toBeGreaterThanOrEqual(6);
    s0.clear();

    const old = new ppl.ParamStore();
    fill(old, 0);
    const next = new ppl.ParamStore();
    // the new store has one more parameter: a mix of the two files would misplace every value
    next.set('added', [9, 9, 9]);
    fill(next, 1);
    const oldSnap = snapshot(old);
    const newSnap = snapshot(next);
    for (let k = 1; k <= calls + 1; k++) {
      const dir = tmp();
      const file = join(dir, 'fit.json');
      saveParamStore(file, old);
      crashAt(k);
      let crashed = false;
      try {
        saveParamStore(file, next);
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
        crashed = true;
      } finally {
        Object.assign(fsOps, real);
      }
      const back = new ppl.ParamStore();
      loadParamStore(file, back);
      const got = snapshot(back);
      if (!crashed) expect(got, `k=${k}`).toEqual(newSnap);
      else expect([oldSnap, newSnap], `crash at call ${k}`).toContainEqual(got);
      back.clear();
      // and the next save after the crash completes
      saveParamStore(file, next);
      const again = new ppl.ParamStore();
      loadParamStore(file, again);
      expect(snapshot(again)).toEqual(newSnap);
      again.clear();
    }
    old.clear();
    next.clear();
  });

  it('a first save killed after its weights landed still loads', () => {
    const dir = tmp();
    const file = join(dir, 'first.json');
    const s = new ppl.ParamStore();
    fill(s, 2);
    fsOps.renameSync = ((a: string, b: string) => {
      if (b === file) throw new Crash('killed before the description');
      return real.renameSync(a, b);
    }) as typeof fsOps.renameSync;
    expect(() => saveParamStore(file, s)).toThrow(Crash);
    Object.assign(fsOps, real);
    const back = new ppl.ParamStore();
    loadParamStore(file, back);
    expect(snapshot(back)).toEqual(snapshot(s));
    back.clear();
    s.clear();
  });

  it('a weight file named outside the folder (.., absolute, symlink) is refused; nothing outside is read', () => {
    const outer = tmp();
    const dir = join(outer, 'fit');
    mkdirSync(dir);
    const s = new ppl.ParamStore();
    fill(s, 0);
    const file = join(dir, 'fit.json');
    saveParamStore(file, s);
    // a file outside of exactly the right size, holding other values
    const other = new ppl.ParamStore();
    fill(other, 5);
    saveParamStore(join(outer, 'secret.json'), other);
    other.clear();
    const spec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete spec.weightsSha256;
    const target = new ppl.ParamStore();
    for (const w of ['../secret.weights.bin', join(outer, 'secret.weights.bin'), '..']) {
      writeFileSync(file, JSON.stringify({ ...spec, weightsFile: w }));
      const err = loadError(file, target);
      expect(err.message, w).toMatch(/fit\.json: weight path .* must lie inside/);
    }
    s.clear();
  });

  it('missing, truncated, padded, bit-flipped and NaN weight files are refused naming the file', () => {
    const target = new ppl.ParamStore();
    fill(target, 7);
    const damage: [string, (b: Buffer) => Buffer | undefined, RegExp][] = [
      ['missing', () => undefined, /weights\.bin is missing/],
      ['truncated', (b) => b.subarray(0, b.length - 4), /weights\.bin: .*(SHA-256|bytes)/],
      ['padded', (b) => Buffer.concat([b, Buffer.alloc(4)]), /weights\.bin: .*(SHA-256|bytes)/],
      [
        'bit flip',
        (b) => {
          const c = Buffer.from(b);
          c.writeUInt8(c.readUInt8(9) ^ 0x08, 9);
          return c;
        },
        /weights\.bin: .*SHA-256 differs/,
      ],
    ];
    for (const [what, change, message] of damage) {
      const dir = tmp();
      const file = join(dir, 'fit.json');
      const s = new ppl.ParamStore();
      fill(s, 1);
      saveParamStore(file, s);
      s.clear();
      const w = join(dir, 'fit.weights.bin');
      const out = change(readFileSync(w));
      if (out === undefined) real.rmSync(w);
      else writeFileSync(w, out);
      expect(loadError(file, target).message, what).toMatch(message);
    }
    // NaN in a description without a checksum (a file of an older version, or edited)
    const dir = tmp();
    const file = join(dir, 'fit.json');
    const s = new ppl.ParamStore();
    fill(s, 1);
    saveParamStore(file, s);
    s.clear();
    const w = join(dir, 'fit.weights.bin');
    const b = readFileSync(w);
    b.writeFloatLE(Number.NaN, 4 * 3);
    writeFileSync(w, b);
    const spec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete spec.weightsSha256;
    writeFileSync(file, JSON.stringify(spec));
    expect(loadError(file, target).message).toMatch(/value 3 \(param 'scale'\) is NaN/);
    target.clear();
  });

  it('a description of an older version (no checksum) still loads', () => {
    const dir = tmp();
    const file = join(dir, 'old.json');
    const s = new ppl.ParamStore();
    fill(s, 3);
    saveParamStore(file, s);
    const spec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete spec.weightsSha256;
    delete spec.weightsBytes;
    writeFileSync(file, JSON.stringify(spec));
    const back = new ppl.ParamStore();
    loadParamStore(file, back);
    expect(snapshot(back)).toEqual(snapshot(s));
    back.clear();
    s.clear();
  });

  it('bad paths: empty, not a string, a folder, not JSON, unwritable', () => {
    const s = new ppl.ParamStore();
    expect(() => saveParamStore('', s)).toThrow(ArgumentError);
    expect(() => loadParamStore(42 as unknown as string, s)).toThrow(/path: expected/);
    const dir = tmp();
    expect(loadError(join(dir, 'none.json'), s).message).toMatch(/none\.json: no such file/);
    writeFileSync(join(dir, 'bad.json'), '{"format": ');
    expect(loadError(join(dir, 'bad.json'), s).message).toMatch(/bad\.json/);
    writeFileSync(join(dir, 'arr.json'), '[1, 2]');
    expect(loadError(join(dir, 'arr.json'), s).message).toMatch(/arr\.json: not a parameter store/);
    fill(s, 0);
    expect(() => saveParamStore('/proc/deepprob-audit/fit.json', s)).toThrow(/deepprob-audit/);
    s.clear();
  });
});
