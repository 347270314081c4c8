/**
 * Graceful stop of a run (Node): the first SIGINT, SIGTERM or SIGHUP asks the trainer to stop
 * after the current step (it then writes a checkpoint with the batcher's position and exits with
 * a message), or `eval`, `uncertainty` and `shift` to stop after the current batch (writing no
 * report, or for `shift` a partial one marked as such); a second signal exits at once (the
 * checkpoint rotation keeps its last complete version; reports are written atomically). Exit codes follow the shell convention `128 + signal number`: 130 for SIGINT, 143 for
 * SIGTERM, 129 for SIGHUP.
 */
import { DeepProbError } from '../utils/errors.js';

/** The signals that stop a run, with their exit codes `128 + n`. */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** A stopping signal. */
export type StopSignal = keyof typeof STOP_SIGNALS;

/**
 * Thrown by a runner stopped by a signal (`runEvaluation`, `runUncertaintyReport`,
 * `runShiftBenchmark` with `handleSignals`): the message says what was done and what was (or was
 * not) written; the CLI prints it and exits with {@link RunInterrupted.exitCode}.
 */
export class RunInterrupted extends DeepProbError {
  /** The signal that stopped the run. */
  readonly signal: StopSignal;
  /** The process exit code of the convention (130, 143, 129). */
  readonly exitCode: number;
  constructor(signal: StopSignal, message: string) {
    super(message);
    this.name = 'RunInterrupted';
    this.signal = signal;
    this.exitCode = STOP_SIGNALS[signal];
  }
}

/** Thrown by `runTraining` after a graceful stop: the message says what was saved and how to resume. */
export class TrainingInterrupted extends RunInterrupted {
  /** The checkpoint directory written. */
  readonly checkpoint: string;
  constructor(signal: StopSignal, checkpoint: string, message: string) {
    super(signal, message);
    this.name = 'TrainingInterrupted';
    this.checkpoint = checkpoint;
  }
}

/** What {@link watchSignals} prints at the first and at a second signal. */
export interface StopMessages {
  /** After `SIG... received: ` (default: training's, finish the step and save a checkpoint). */
  first: string;
  /** After `second signal (SIG...): exiting at once; ` (default: the checkpoint kept). */
  second: string;
}

/** The messages of a training run. */
export const TRAINING_STOP_MESSAGES: StopMessages = {
  first: 'finishing the current step and saving a checkpoint',
  second: 'the run folder keeps its last complete checkpoint',
};

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
 * @param messages what the first and a second signal print (default: a training run's).
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
  messages: StopMessages = TRAINING_STOP_MESSAGES,
): StopSwitch {
  let signal: StopSignal | undefined;
  const handler = (sig: NodeJS.Signals): void => {
    const s = sig as StopSignal;
    if (signal === undefined) {
      signal = s;
      log(`deepprob: ${s} received: ${messages.first} (send it again to exit at once)`);
      return;
    }
    log(`deepprob: second signal (${s}): exiting at once; ${messages.second}`);
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

/**
 * The graceful stop of one run, as every runner sets it up: the signal handlers of
 * {@link watchSignals} when `handleSignals` is true (else nothing is watched and nothing stops),
 * the stop request for a loop's `shouldStop`, and the one way to end it.
 */
export interface GracefulStop {
  /** The first signal received, if any (always undefined when signals are not watched). */
  readonly signal: StopSignal | undefined;
  /** A loop's `shouldStop` (`signal !== undefined`), or undefined when signals are not watched. */
  readonly shouldStop: (() => boolean) | undefined;
  /**
   * Yield one event-loop turn (so that a signal handler can run between two units of work), then
   * whether a stop was requested; false at once when signals are not watched.
   */
  requested(): Promise<boolean>;
  /**
   * End the watch: a signal still queued in the event loop is dispatched first (a second signal
   * exits at once, with its message), then the handlers are removed. Call it in `finally`.
   */
  end(): Promise<void>;
}

/**
 * Set up the graceful stop of a run (`runTraining`, `runEvaluation`, `runUncertaintyReport`,
 * `runShiftBenchmark`).
 * @param handleSignals watch SIGINT/SIGTERM/SIGHUP (the runners' `handleSignals` option).
 * @param log where the messages of {@link watchSignals} go.
 * @param messages what the first and a second signal print (default: a training run's).
 * @returns the stop; `await stop.end()` in a `finally` when the run is over.
 * @example
 * ```ts
 * const stop = gracefulStop(options.handleSignals === true, console.error, EVAL_STOP);
 * try {
 *   await evaluate(model, batches, { ...(stop.shouldStop ? { shouldStop: stop.shouldStop } : {}) });
 * } finally {
 *   await stop.end();
 * }
 * ```
 */
export function gracefulStop(
  handleSignals: boolean,
  log: (line: string) => void,
  messages: StopMessages = TRAINING_STOP_MESSAGES,
): GracefulStop {
  const watch = handleSignals ? watchSignals(log, undefined, messages) : undefined;
  return {
    get signal() {
      return watch?.signal;
    },
    shouldStop: watch !== undefined ? () => watch.signal !== undefined : undefined,
    async requested() {
      if (watch === undefined) return false;
      // a timer: the loop passes its poll phase, where a pending signal is dispatched
      await new Promise((resolve) => setTimeout(resolve, 0));
      return watch.signal !== undefined;
    },
    async end() {
      if (watch === undefined) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      watch.dispose();
    },
  };
}
