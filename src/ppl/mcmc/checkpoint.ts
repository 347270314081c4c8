/**
 * MCMC checkpoints: the draws so far and every chain's state ({@link ChainState}) as one file,
 * rewritten atomically every `every` iterations, from which a killed run continues to the result
 * of the uninterrupted run. This module is the format and the checks; it does no file IO itself:
 * the reads and writes go through a {@link MCMCCheckpointIO}, the Node one (`checkpoint_file.ts`,
 * temporary file + fsync + rename) registered by `deepprob/node`, so the browser build never
 * imports `fs`.
 *
 * File layout: one ASCII header line `DEEPPROB-MCMC-CHECKPOINT <version> <crc32 hex> <body
 * bytes>` and the UTF-8 JSON body, in which float64 and int32 arrays are base64 of their
 * little-endian bytes (bit-exact) and non-finite numbers are spelled out. The CRC-32 and the
 * length catch a truncated or corrupted file; each is reported naming the file.
 */
import { ArgumentError, DeepProbError } from '../../utils/errors.js';
import type { ChainStats } from './chain_loop.js';
import type { ChainState } from './chain_state.js';

/** Where checkpoints are read and written (the Node one comes with `deepprob/node`). */
export interface MCMCCheckpointIO {
  /** The file's bytes, or `undefined` when there is no file at `path`. */
  read(path: string): Uint8Array | undefined;
  /** Replace the file at `path` by `data` atomically (a crash leaves the old or the new file). */
  write(path: string, data: Uint8Array): void;
}

let registeredIO: MCMCCheckpointIO | undefined;

/**
 * Register the checkpoint IO used when `checkpoint.io` is not given (`deepprob/node` registers the
 * file system's on import).
 */
export function setCheckpointIO(io: MCMCCheckpointIO | undefined): void {
  registeredIO = io;
}

/** The registered checkpoint IO, if any. */
export function checkpointIO(): MCMCCheckpointIO | undefined {
  return registeredIO;
}

/** What must match between a checkpoint and the run that continues it. */
export interface RunFingerprint {
  /** `'NUTS'` or `'HMC'`. */
  kernel: string;
  /** The kernel's options as plain data (the init strategy and `compile` included). */
  kernelOptions: Record<string, unknown>;
  numSamples: number;
  warmupSteps: number;
  numChains: number;
  chainMethod: string;
  /** The run's seed (each chain's seed is derived from it). */
  seed: number;
  /** A flat potential's start (`initParams`), if given. */
  initParams: number[] | null;
  /** The latent layout (name, shapes), or `null` for a flat potential. */
  sites: { name: string; shape: number[]; unconstrainedShape: number[] }[] | null;
  /** Number of unconstrained coordinates. */
  dim: number;
}

/** One chain in a checkpoint. */
export interface ChainCheckpoint {
  /** Its state after its last transition; absent when it has not started. */
  state?: ChainState;
  /** The state it started from (a run continued from `postWarmupState`), if any. */
  start?: ChainState;
  /** Its kept unconstrained positions so far. */
  kept: Float64Array[];
  /** The statistics of those kept iterations (absent when it has not started). */
  stats?: ChainStats;
  /** Whether it has all its draws. */
  done: boolean;
}

/** The content of a checkpoint file. */
export interface MCMCCheckpoint {
  fingerprint: RunFingerprint;
  chains: ChainCheckpoint[];
}

const MAGIC = 'DEEPPROB-MCMC-CHECKPOINT';
const VERSION = 1;

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib's) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    cur +=
      B64[(n >> 18) & 63]! +
      B64[(n >> 12) & 63]! +
      (b === undefined ? '=' : B64[(n >> 6) & 63]!) +
      (c === undefined ? '=' : B64[n & 63]!);
    if (cur.length >= 8192) {
      parts.push(cur);
      cur = '';
    }
  }
  parts.push(cur);
  return parts.join('');
}

function fromBase64(s: string): Uint8Array {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new Error('bad base64');
  }
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const n =
      (B64.indexOf(s[i]!) << 18) |
      (B64.indexOf(s[i + 1]!) << 12) |
      ((B64.indexOf(s[i + 2]!) & 63) << 6) |
      (B64.indexOf(s[i + 3]!) & 63);
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** Little-endian bytes of a typed array (a copy). */
function leBytes(a: Float64Array | Int32Array): Uint8Array {
  const out = new Uint8Array(a.length * a.BYTES_PER_ELEMENT);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float64Array) view.setFloat64(i * 8, a[i] as number, true);
    else view.setInt32(i * 4, a[i] as number, true);
  }
  return out;
}

function replacer(_key: string, v: unknown): unknown {
  if (v instanceof Float64Array) return { $f64: toBase64(leBytes(v)) };
  if (v instanceof Int32Array) return { $i32: toBase64(leBytes(v)) };
  if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
  return v;
}

function reviver(_key: string, v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  if (typeof o.$f64 === 'string') {
    const b = fromBase64(o.$f64);
    const view = new DataView(b.buffer);
    const a = new Float64Array(b.length / 8);
    for (let i = 0; i < a.length; i++) a[i] = view.getFloat64(i * 8, true);
    return a;
  }
  if (typeof o.$i32 === 'string') {
    const b = fromBase64(o.$i32);
    const view = new DataView(b.buffer);
    const a = new Int32Array(b.length / 4);
    for (let i = 0; i < a.length; i++) a[i] = view.getInt32(i * 4, true);
    return a;
  }
  if (typeof o.$num === 'string') return Number(o.$num);
  return v;
}

/** The bytes of a checkpoint file (see the module docs). */
export function encodeCheckpoint(ck: MCMCCheckpoint): Uint8Array {
  // the kept positions of a chain as one array (fewer JSON objects)
  const chains = ck.chains.map((c) => {
    const dim = c.kept[0]?.length ?? 0;
    const flat = new Float64Array(c.kept.length * dim);
    c.kept.forEach((z, i) => flat.set(z, i * dim));
    return { ...c, kept: { count: c.kept.length, dim, values: flat } };
  });
  const body = new TextEncoder().encode(JSON.stringify({ ...ck, chains }, replacer));
  const header = new TextEncoder().encode(
    `${MAGIC} ${VERSION} ${crc32(body).toString(16).padStart(8, '0')} ${body.length}\n`,
  );
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/**
 * Parse checkpoint bytes read from `path`.
 *
 * @throws DeepProbError naming `path` when the file is not a checkpoint, is truncated, corrupted
 *   (CRC-32 mismatch), of another version, or its body lacks the fingerprint or a chain's kept
 *   draws (a hand-edited body with its CRC recomputed).
 */
export function decodeCheckpoint(bytes: Uint8Array, path: string): MCMCCheckpoint {
  const fail = (why: string): never => {
    throw new DeepProbError(
      `MCMC checkpoint ${path}: ${why}; its draws cannot be trusted, so nothing was resumed (restore the file, or move it away to start the run over)`,
    );
  };
  const nl = bytes.indexOf(10);
  const head = new TextDecoder().decode(
    bytes.subarray(0, nl < 0 ? Math.min(bytes.length, 80) : nl),
  );
  const m = /^DEEPPROB-MCMC-CHECKPOINT (\d+) ([0-9a-f]{8}) (\d+)$/.exec(head);
  if (nl < 0 || m === null) {
    return fail(
      bytes.length === 0
        ? 'the file is empty (truncated)'
        : `not an MCMC checkpoint (expected a first line '${MAGIC} <version> <crc32> <bytes>', got '${head.slice(0, 60)}')`,
    );
  }
  if (Number(m[1]) !== VERSION) {
    return fail(`format version ${m[1]}, this deepprob reads version ${VERSION}`);
  }
  const body = bytes.subarray(nl + 1);
  const want = Number(m[3]);
  if (body.length !== want) {
    return fail(
      `the file is ${body.length < want ? 'truncated' : 'longer than written'} (${body.length} of ${want} body bytes)`,
    );
  }
  const crc = crc32(body).toString(16).padStart(8, '0');
  if (crc !== m[2]) return fail(`the file is corrupted (CRC-32 ${crc}, written ${m[2]})`);
  let raw: {
    fingerprint: RunFingerprint;
    chains: (Omit<ChainCheckpoint, 'kept'> & {
      kept: { count: number; dim: number; values: Float64Array };
    })[];
  };
  try {
    raw = JSON.parse(new TextDecoder().decode(body), reviver) as typeof raw;
  } catch (e) {
    return fail(`its body is not valid (${(e as Error).message})`);
  }
  if (raw?.fingerprint === undefined || !Array.isArray(raw.chains)) {
    return fail('its body has no fingerprint or chains');
  }
  for (const [i, c] of raw.chains.entries()) {
    const k = (c as { kept?: { count?: unknown; dim?: unknown; values?: unknown } } | null)?.kept;
    if (
      k === undefined ||
      k === null ||
      !Number.isInteger(k.count) ||
      !Number.isInteger(k.dim) ||
      (k.count as number) < 0 ||
      (k.dim as number) < 0 ||
      !(k.values instanceof Float64Array) ||
      k.values.length !== (k.count as number) * (k.dim as number)
    ) {
      return fail(`chain ${i} has no kept draws {count, dim, values} of count * dim values`);
    }
  }
  const chains = raw.chains.map((c) => {
    const { count, dim, values } = c.kept;
    const kept = Array.from({ length: count }, (_, i) => values.slice(i * dim, (i + 1) * dim));
    return { ...c, kept };
  });
  return { fingerprint: raw.fingerprint, chains };
}

/** A setting as shown in a mismatch (`default` for an option not given). */
function show(v: unknown): string {
  return v === undefined ? 'default' : (JSON.stringify(v, replacer) ?? String(v));
}

/**
 * How the run settings of checkpoint `path` differ from this run's, one phrase per mismatch
 * (empty when they match). `sites` is compared only when `current.sites` is known.
 */
export function fingerprintMismatches(
  saved: RunFingerprint,
  current: Omit<RunFingerprint, 'sites' | 'dim'> & Partial<Pick<RunFingerprint, 'sites' | 'dim'>>,
): string[] {
  const out: string[] = [];
  if (saved.kernel !== current.kernel) {
    out.push(`kernel: ${saved.kernel} in the checkpoint, ${current.kernel} now`);
  }
  const keys = new Set([
    ...Object.keys(saved.kernelOptions),
    ...Object.keys(current.kernelOptions),
  ]);
  for (const k of [...keys].sort()) {
    const a = show(saved.kernelOptions[k]);
    const b = show(current.kernelOptions[k]);
    if (a !== b) out.push(`kernel option ${k}: ${a} in the checkpoint, ${b} now`);
  }
  for (const k of [
    'numSamples',
    'warmupSteps',
    'numChains',
    'chainMethod',
    'initParams',
  ] as const) {
    const a = show(saved[k]);
    const b = show(current[k]);
    if (a !== b) out.push(`${k}: ${a} in the checkpoint, ${b} now`);
  }
  if (current.sites !== undefined) {
    const s0 = saved.sites ?? [];
    const s1 = current.sites ?? [];
    const names0 = s0.map((s) => s.name);
    const names1 = s1.map((s) => s.name);
    if ((saved.sites === null) !== (current.sites === null)) {
      out.push(
        `target: ${saved.sites === null ? 'a flat potential' : 'a model'} in the checkpoint, ${current.sites === null ? 'a flat potential' : 'a model'} now`,
      );
    } else if (show(names0) !== show(names1)) {
      out.push(`latent sites: ${show(names0)} in the checkpoint, ${show(names1)} now`);
    } else {
      s0.forEach((a, i) => {
        const b = s1[i] as (typeof s1)[number];
        if (
          show(a.shape) !== show(b.shape) ||
          show(a.unconstrainedShape) !== show(b.unconstrainedShape)
        ) {
          out.push(
            `site '${a.name}': shape ${show(a.shape)} in the checkpoint, ${show(b.shape)} now`,
          );
        }
      });
    }
    if (current.dim !== undefined && saved.dim !== current.dim && out.length === 0) {
      out.push(`dimension: ${saved.dim} in the checkpoint, ${current.dim} now`);
    }
  }
  return out;
}

/** Throw when `mismatches` is not empty, naming the checkpoint file and each mismatch. */
export function refuseMismatch(path: string, mismatches: string[]): void {
  if (mismatches.length === 0) return;
  throw new ArgumentError(
    'checkpoint',
    `${path} was written by a different run (${mismatches.join('; ')}): resume it with the model and settings that wrote it, or give another path`,
  );
}
