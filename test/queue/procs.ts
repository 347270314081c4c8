/**
 * Real components for the queue tests: Debian's `redis-server` on a free loopback port with a
 * temporary directory (optionally append-only, for the restart test), and `deepprob` CLI
 * processes (workers, submitters) run from the sources with `node --import tsx`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

/** Why the Redis tests cannot run here, or undefined when `redis-server` is installed. */
export function redisMissing(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    return 'redis-server is not installed (Debian: apt-get install -y redis-server)';
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** Resolve once Redis on `port` answers PING (or reject after `ms`). */
async function waitForPong(port: number, ms = 10000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const c = createConnection({ port, host: '127.0.0.1' }, () => c.write('PING\r\n'));
      c.on('data', (d) => {
        c.destroy();
        res(d.toString().startsWith('+PONG'));
      });
      c.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() - t0 > ms) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A running redis-server. */
export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Kill it (SIGKILL: a crash) and wait for the exit. */
  kill(): Promise<void>;
  /** Start it again on the same port and directory (append-only data is reloaded). */
  start(): Promise<void>;
  /** Stop it and remove its directory. */
  stop(): Promise<void>;
}

/** Start redis-server on a free loopback port; `appendOnly` persists every write (fsync always). */
export async function startRedis(options: { appendOnly?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'deepprob-redis-'));
  let proc: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--appendonly',
    options.appendOnly === true ? 'yes' : 'no',
    '--appendfsync',
    'always',
  ];
  const start = async (): Promise<void> => {
    proc = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPong(port);
  };
  const kill = async (): Promise<void> => {
    const p = proc;
    // (a killed process has a signalCode and no exitCode: a second kill waited forever)
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise((r) => {
      p.on('exit', r);
      p.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A `deepprob` process run from the sources; its output is collected. */
export interface CliProcess {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Run `deepprob <args>` in a child process (`node --import tsx test/queue/cli_entry.ts`). */
export function deepprob(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/queue/cli_entry.ts'), ...args],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((res) =>
    proc.on('exit', (code, signal) => res(code ?? signal ?? -1)),
  );
  return { proc, output: () => out, exited };
}

/** The JSON line a CLI process printed last on stdout. */
export function lastJson(p: CliProcess): Record<string, unknown> {
  const lines = p
    .output()
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  return JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
}

/** Wait until `cond()` holds (polling), or throw after `ms` with `what`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
