/**
 * Progress display of the training loop: a `cli-progress` bar on stderr with loss, NLL, KL,
 * accuracy, images/s and ETA (plain periodic lines when stderr is not a terminal), or nothing in
 * quiet mode.
 */
import cliProgress from 'cli-progress';
import { cellNumber } from '../utils/text_table.js';

/** Running values shown on the bar. */
export interface ProgressValues {
  loss: number;
  nll: number;
  kl: number;
  acc: number;
  ips: number;
}

/** What the trainer reports to. */
export interface ProgressReporter {
  /** A new phase (e.g. `epoch 2/5` or `eval`) of `total` steps. */
  start(label: string, total: number): void;
  /** Step `value` done. */
  update(value: number, values?: ProgressValues): void;
  /** Phase finished. */
  stop(): void;
  /** Print a line (not disturbing the bar). */
  log(line: string): void;
}

/** A reporter that prints nothing (tests, `--quiet`). */
export function quietProgress(): ProgressReporter {
  return { start() {}, update() {}, stop() {}, log() {} };
}

/** `DEEPPROB_PROGRESS_INTERVAL_MS` when it is a positive integer. */
function envInterval(): number | undefined {
  const raw = process.env.DEEPPROB_PROGRESS_INTERVAL_MS;
  if (raw === undefined || !/^[1-9][0-9]*$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** A value on the bar: `n/a` when not finite (as the tables and summary lines). */
const fmt = (v: number, d: number): string => cellNumber(v, d);

/**
 * A `cli-progress` reporter on `process.stderr`.
 *
 * @param options `intervalMs` between lines when stderr is not a TTY (default: the environment
 *   variable `DEEPPROB_PROGRESS_INTERVAL_MS` when it is a positive integer, else 15000; CI logs
 *   and the fault tests set it).
 */
export function barProgress(options: { intervalMs?: number } = {}): ProgressReporter {
  let bar: cliProgress.SingleBar | undefined;
  let label = '';
  return {
    start(l: string, total: number) {
      label = l;
      bar = new cliProgress.SingleBar(
        {
          format:
            '{label} |{bar}| {value}/{total} | loss {loss} nll {nll} kl {kl} acc {acc} | {ips} img/s | ETA {eta_formatted}',
          barsize: 20,
          stream: process.stderr,
          noTTYOutput: true,
          notTTYSchedule: options.intervalMs ?? envInterval() ?? 15000,
          etaBuffer: 50,
          hideCursor: false,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { label, loss: '-', nll: '-', kl: '-', acc: '-', ips: '-' });
    },
    update(value: number, v?: ProgressValues) {
      if (bar === undefined) return;
      if (v === undefined) bar.update(value);
      else {
        bar.update(value, {
          label,
          loss: fmt(v.loss, 4),
          nll: fmt(v.nll, 4),
          kl: fmt(v.kl, 4),
          acc: fmt(v.acc, 4),
          ips: fmt(v.ips, 0),
        });
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
    log(line: string) {
      process.stderr.write(line + '\n');
    },
  };
}
