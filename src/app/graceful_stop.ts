/**
 * Graceful stop of a training run (Node): the first SIGINT, SIGTERM or SIGHUP asks the trainer to
 * stop after the current step (it then writes a checkpoint with the batcher's position and exits
 * with a message); a second signal exits at once (the checkpoint rotation keeps its last complete
 * version). Exit codes follow the shell convention `128 + signal number`: 130 for SIGINT, 143 for
 * SIGTERM, 129 for SIGHUP.
 */
import { DeepProbError } from '../utils/errors.js';

/** The signals that stop a run, with their exit codes `128 + n`. */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** A stopping signal. */
export type StopSignal = keyof typeof STOP_SIGNALS;

/** Thrown by `runTraining` after a graceful stop: the message says what was saved and how to resume. */
export class TrainingInterrupted extends DeepProbError {
  /** The signal that stopped the run. */
  readonly signal: StopSignal;
  /** The process exit code of the convention (130, 143, 129). */
  readonly exitCode: number;
  /** The checkpoint directory written. */
  readonly checkpoint: string;
  constructor(signal: StopSignal, checkpoint: string, message: string) {
    super(message);
    this.name = 'TrainingInterrupted';
    this.signal = signal;
    this.exitCode = STOP_SIGNALS[signal];
    this.checkpoint = checkpoint;
  }
}

/** A stop request set by a signal. */
export interface StopSwitch {
  /** The first signal received, if any. */
  readonly signal: StopSignal | undefined;
  /** Remove the handlers. */
  dispose(): void;
}

/**
 * Listen for SIGINT, SIGTERM and SIGHUP: the first sets {@link StopSwitch.signal} and logs what
 * will happen; a second one logs and exits the process at once with its exit code.
 * @param log where the messages go.
 * @param exit how to exit at once (default `process.exit`).
 * @returns the switch; call `dispose()` when training ends.
 * @example
 * ```ts
 * const stop = watchSignals(console.error);
 * try { await fit(model, { ..., shouldStop: () => stop.signal !== undefined }); } finally { stop.dispose(); }
 * ```
 */
export function watchSignals(
  log: (line: string) => void,
  exit: (code: number) => void = (code) => process.exit(code),
): StopSwitch {
  let signal: StopSignal | undefined;
  const handler = (sig: NodeJS.Signals): void => {
    const s = sig as StopSignal;
    if (signal === undefined) {
      signal = s;
      log(
        `deepprob: ${s} received: finishing the current step and saving a checkpoint ` +
          `(send it again to exit at once)`,
      );
      return;
    }
    log(
      `deepprob: second signal (${s}): exiting at once; the run folder keeps its last complete checkpoint`,
    );
    exit(STOP_SIGNALS[s]);
  };
  const names = Object.keys(STOP_SIGNALS) as StopSignal[];
  for (const n of names) process.on(n, handler);
  return {
    get signal() {
      return signal;
    },
    dispose() {
      for (const n of names) process.off(n, handler);
    },
  };
}
