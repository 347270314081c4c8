#!/usr/bin/env node
/**
 * Build deepprob's native CPU addon (native/deepprob_native.c -> native/build/deepprob_native.node)
 * with the system C compiler and the Node-API headers of the running Node installation
 * (<prefix>/include/node; nothing is downloaded). Run by `npm install` / `npm ci` (the package's
 * `install` script) and by hand: `node scripts/build-native.mjs [--force]`.
 *
 * It never fails the install: without a compiler or headers it prints why and exits 0, and
 * deepprob runs its wasm path. The addon uses only Node-API (ABI-stable), so one build serves
 * every Node version >= 18. Rebuilt only when a source is newer than the binary (or --force).
 * `DEEPPROB_NATIVE=0` at install time skips the build; `CC` picks the compiler.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'native', 'deepprob_native.c');
const headers = [
  'gemm_kernel.h',
  'conv_direct.h',
  'elementwise.h',
  'pointwise.h',
  'pool_reduce.h',
].map((h) => path.join(root, 'native', h));
const out = path.join(root, 'native', 'build', 'deepprob_native.node');

function say(msg) {
  console.log(`deepprob native: ${msg}`);
}

function headerDir() {
  const candidates = [
    process.env.DEEPPROB_NODE_HEADERS,
    path.join(path.dirname(path.dirname(process.execPath)), 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ].filter((d) => d !== undefined && d !== '');
  return candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
}

function main() {
  if (process.env.DEEPPROB_NATIVE === '0') return say('skipped (DEEPPROB_NATIVE=0)');
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    return say(`skipped on ${process.platform}: the wasm path is used`);
  }
  if (!['x64'].includes(process.arch)) {
    return say(`skipped on ${process.arch} (x86-64 kernels only): the wasm path is used`);
  }
  if (!fs.existsSync(src)) return say('no sources (native/ not shipped): the wasm path is used');
  const force = process.argv.includes('--force');
  if (!force && fs.existsSync(out)) {
    const built = fs.statSync(out).mtimeMs;
    if ([src, ...headers].every((f) => built >= fs.statSync(f).mtimeMs)) {
      return say(`up to date (${path.relative(root, out)})`);
    }
  }
  const inc = headerDir();
  if (inc === undefined) {
    return say('Node-API headers (node_api.h) not found: the wasm path is used');
  }
  const cc = process.env.CC ?? 'cc';
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const args = [
    '-O3',
    '-fno-math-errno',
    '-std=gnu11',
    '-fPIC',
    '-shared',
    '-pthread',
    '-fvisibility=hidden',
    '-DNODE_GYP_MODULE_NAME=deepprob_native',
    `-I${inc}`,
    src,
    '-o',
    tmp,
  ];
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  const t0 = Date.now();
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const why = r.error?.message ?? r.stderr.trim().split('\n').slice(0, 5).join('\n');
    return say(`not built (${cc}: ${why}): the wasm path is used`);
  }
  fs.renameSync(tmp, out);
  say(
    `built ${path.relative(root, out)} in ${((Date.now() - t0) / 1000).toFixed(1)} s (${cc}, headers ${inc})`,
  );
}

try {
  main();
} catch (e) {
  say(`not built (${e instanceof Error ? e.message : String(e)}): the wasm path is used`);
}
