import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it, vi } from 'vitest';
import {
  TESTED_TFJS_RANGE,
  inTestedRange,
  tfjsCompatibility,
  warnIfUntestedTfjs,
} from '../../src/backend/tfjs_version.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};

describe('tfjs version check', () => {
  it('the tested range is the peer range of package.json, and the dev install is in it', () => {
    expect(pkg.peerDependencies['@tensorflow/tfjs']).toBe(TESTED_TFJS_RANGE);
    expect(pkg.peerDependencies['@tensorflow/tfjs-backend-wasm']).toBe(TESTED_TFJS_RANGE);
    expect(pkg.dependencies['@tensorflow/tfjs']).toBeUndefined();
    expect(inTestedRange(pkg.devDependencies['@tensorflow/tfjs'] ?? '')).toBe(true);
    expect(inTestedRange(tf.version.tfjs)).toBe(true);
  });

  it('accepts 4.22.x only (npm ~4.22.0)', () => {
    for (const v of ['4.22.0', '4.22.1', '4.22.17']) expect(inTestedRange(v)).toBe(true);
    for (const v of ['4.21.0', '4.23.0', '5.22.0', '4.22.0-rc.0', '4.22', 'x']) {
      expect(inTestedRange(v)).toBe(false);
    }
  });

  it('names the found version, the tested range and that the kernel pack is off', () => {
    const ok = tfjsCompatibility({ tfjs: '4.22.0', wasm: '4.22.0' });
    expect(ok.supported).toBe(true);
    expect(ok.message).toBeUndefined();
    const old = tfjsCompatibility({ tfjs: '4.21.0', wasm: '4.21.0' });
    expect(old.supported).toBe(false);
    expect(old.message).toMatch(/found @tensorflow\/tfjs 4\.21\.0/);
    expect(old.message).toContain(TESTED_TFJS_RANGE);
    expect(old.message).toMatch(/kernel pack .* OFF/);
    expect(old.message).toMatch(/npm install @tensorflow\/tfjs@4\.22\.0/);
    const mixed = tfjsCompatibility({ tfjs: '4.22.0', wasm: '4.21.0' });
    expect(mixed.supported).toBe(false);
    expect(mixed.message).toMatch(/different versions/);
  });

  it('is silent on the installed (tested) version', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const verdict = warnIfUntestedTfjs();
      expect(verdict.versions).toEqual({ tfjs: tf.version.tfjs, wasm: version_wasm });
      expect(verdict.supported).toBe(true);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
