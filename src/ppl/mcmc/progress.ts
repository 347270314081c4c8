/**
 * The MCMC progress bar: a `cli-progress` bar on stderr (Node only, loaded on demand so that the
 * browser bundle does not need it) showing the phase, step size, tree depth, leapfrog steps and
 * divergences; plain periodic lines when stderr is not a terminal.
 */

/** What the MCMC driver reports to. */
export interface MCMCProgress {
  /** A chain starts: `total` iterations (warmup included). */
  start(label: string, total: number): void;
  /** After iteration `value`. */
  update(
    value: number,
    info: { phase: string; stepSize: number; treeDepth: number; divergences: number },
  ): void;
  /** The chain is done. */
  stop(): void;
}

/** A reporter that shows nothing. */
export function silentProgress(): MCMCProgress {
  return { start() {}, update() {}, stop() {} };
}

interface BarLike {
  start(total: number, value: number, payload: Record<string, unknown>): void;
  update(value: number, payload: Record<string, unknown>): void;
  stop(): void;
}
type BarCtor = new (options: Record<string, unknown>, preset: unknown) => BarLike;

/** A `cli-progress` bar on `process.stderr`, or a silent reporter outside Node. */
export async function stderrProgress(): Promise<MCMCProgress> {
  const proc = (globalThis as { process?: { stderr?: { write?: unknown } } }).process;
  if (proc?.stderr?.write === undefined) return silentProgress();
  let mod: { SingleBar: BarCtor; Presets: { shades_classic: unknown } };
  try {
    // A variable specifier: bundlers (esbuild, webpack) would otherwise pull `cli-progress` and
    // its Node built-ins (`events`, `readline`) into a browser bundle of `deepprob`.
    const spec = 'cli-progress';
    const m = (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as unknown as {
      default?: typeof mod;
    } & typeof mod;
    mod = m.default ?? m;
  } catch {
    return silentProgress();
  }
  let bar: BarLike | undefined;
  let last = 0;
  return {
    start(label: string, total: number) {
      bar = new mod.SingleBar(
        {
          format:
            '{label} |{bar}| {value}/{total} [{phase}] step size {eps} | depth {depth} | divergences {div} | ETA {eta_formatted}',
          barsize: 20,
          stream: proc.stderr,
          noTTYOutput: true,
          notTTYSchedule: 10000,
          hideCursor: false,
        },
        mod.Presets.shades_classic,
      );
      bar.start(total, 0, { label, phase: 'warmup', eps: '-', depth: '-', div: 0 });
      last = 0;
    },
    update(value, info) {
      if (bar === undefined) return;
      const now = Date.now();
      if (now - last < 100 && value % 50 !== 0) return; // redraw at most ~10 times a second
      last = now;
      bar.update(value, {
        phase: info.phase,
        eps: info.stepSize.toPrecision(3),
        depth: info.treeDepth,
        div: info.divergences,
      });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
