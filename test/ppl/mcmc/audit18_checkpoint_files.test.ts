/**
 * Audit 18 (reliability, round 2): MCMC checkpoint files a user's disk may hold. A FIFO or a
 * link to a device at `checkpoint.path` blocked the run forever (or filled the memory) before it
 * sampled; a body edited by hand with its CRC-32 recomputed threw a raw TypeError. Both are a
 * DeepProbError naming the path.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32, decodeCheckpoint } from '../../../src/ppl/mcmc/checkpoint.js';
import { fileCheckpointIO } from '../../../src/ppl/mcmc/checkpoint_file.js';
import { DeepProbError } from '../../../src/utils/errors.js';

const root = mkdtempSync(join(tmpdir(), 'deepprob-a18-mcmc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Checkpoint bytes with a valid header (CRC-32 and length) around `body`. */
function framed(body: string): Uint8Array {
  const b = new TextEncoder().encode(body);
  const head = `DEEPPROB-MCMC-CHECKPOINT 1 ${crc32(b).toString(16).padStart(8, '0')} ${b.length}\n`;
  const h = new TextEncoder().encode(head);
  const out = new Uint8Array(h.length + b.length);
  out.set(h);
  out.set(b, h.length);
  return out;
}

describe('MCMC checkpoint files', () => {
  it('a FIFO or a link to /dev/zero is refused naming the path, before any read', () => {
    const fifo = join(root, 'ck.fifo');
    execFileSync('mkfifo', [fifo]);
    const zero = join(root, 'ck.zero');
    symlinkSync('/dev/zero', zero);
    for (const p of [fifo, zero]) {
      expect(() => fileCheckpointIO.read(p)).toThrow(DeepProbError);
      expect(() => fileCheckpointIO.read(p)).toThrow(
        new RegExp(`MCMC checkpoint ${p} is not a regular file`),
      );
    }
    expect(fileCheckpointIO.read(join(root, 'none'))).toBeUndefined();
  });

  it('a body without kept draws, CRC recomputed, is refused naming the chain (was TypeError)', () => {
    for (const chain of [
      '{}',
      '{"kept":null}',
      '{"kept":{"count":2,"dim":3,"values":[1,2]}}',
      '{"kept":{"count":-1,"dim":0,"values":[]}}',
    ]) {
      const bytes = framed(`{"fingerprint":{},"chains":[${chain}]}`);
      expect(() => decodeCheckpoint(bytes, 'runs/ck.bin'), chain).toThrow(
        /MCMC checkpoint runs\/ck\.bin: chain 0 has no kept draws \{count, dim, values\}/,
      );
    }
  });
});
