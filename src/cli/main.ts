/**
 * The `deepprob` command-line program. Each subcommand lives in its own file under `src/cli/`
 * exporting `register(program)`; this file only assembles them.
 */
// First: one clear message when the installed tfjs is not the tested version (kernel pack off).
import '../backend/tfjs_check.js';
import { Command, CommanderError } from 'commander';
import { ready } from '../backend/ready.js';
import { describeBackend } from '../backend/describe_backend.js';
import { version } from '../version.js';
import { RunInterrupted } from '../app/graceful_stop.js';
import { ArgumentError, DeepProbError } from '../utils/errors.js';
import { register as registerTrain } from './train.js';
import { register as registerEval } from './eval.js';
import { register as registerDemo } from './demo.js';
import { register as registerConvert } from './convert.js';
import { register as registerUncertainty } from './uncertainty.js';
import { register as registerShift } from './shift.js';
import { register as registerEnsemble } from './ensemble.js';
import { register as registerSweep } from './sweep.js';
import { register as registerScore } from './score.js';
import { register as registerQueue } from './queue.js';

/** Options every subcommand inherits. */
export interface GlobalOptions {
  backend?: string;
}

/** Select the backend for a CLI run and print the choice (every subcommand calls this first). */
export async function cliReady(program: Command): Promise<void> {
  const info = await ready({ backend: program.opts<GlobalOptions>().backend });
  console.error(describeBackend(info));
}

/** The (sub)command whose action runs, per program (set by a `preAction` hook). */
const running = new WeakMap<Command, Command>();

/**
 * An error from a command's action that names its command-line flag: the library names an option
 * by its configuration key (`model: expected one of ...`, `klWeight: ...`, also a
 * {@link DeepProbError} whose message starts `checkpoint: `); where the message does not name
 * the flag already, ` (--model)` is appended (`model: expected one of ..., got 'resnet'
 * (--model)`), the message otherwise unchanged (its start is what scripts match); an argument
 * named `ENV/key` (an option an environment variable also sets) is matched by its last part. An error whose
 * argument is no option of the running command (or of the program) is returned as it is.
 * @param error what the action threw.
 * @param program the program built by {@link buildProgram}.
 * @returns the error to report (of the same class, the same `argument`).
 */
export function flagNamedError(error: unknown, program: Command): unknown {
  if (!(error instanceof DeepProbError)) return error;
  const cmd = running.get(program);
  if (cmd === undefined) return error;
  const arg =
    error instanceof ArgumentError
      ? error.argument
      : /^([A-Za-z][\w-]*): /.exec(error.message)?.[1];
  if (arg === undefined) return error;
  // `DEEPPROB_BACKEND/backend`: an option that an environment variable also sets
  const keys = [arg, ...arg.split('/').slice(1)];
  for (const c of [cmd, program]) {
    const opt = c.options.find(
      (o) =>
        o.long !== undefined && keys.some((k) => o.attributeName() === k || o.long === `--${k}`),
    );
    const flag = opt?.long;
    if (flag === undefined) continue;
    if (new RegExp(`${flag}(?![\\w-])`).test(error.message)) return error;
    const named =
      error instanceof ArgumentError
        ? new ArgumentError(arg, `${error.message.slice(arg.length + 2)} (${flag})`)
        : new DeepProbError(`${error.message} (${flag})`);
    named.stack = error.stack;
    return named;
  }
  return error;
}

/** Build the commander program with every subcommand. */
export function buildProgram(): Command {
  const program = new Command('deepprob')
    .description('Deep probabilistic programming on TensorFlow.js')
    .version(version)
    .option(
      '--backend <name>',
      'tfjs backend: wasm | cpu | webgpu | tensorflow (default: best available)',
    )
    // `deepprob train --backend cpu` is accepted: every subcommand's --help lists --backend
    .configureHelp({ showGlobalOptions: true });
  program.hook('preAction', (_program, action) => {
    running.set(program, action);
  });
  program
    .command('info')
    .description('print the chosen backend and versions')
    .action(async () => {
      await cliReady(program);
    });
  registerTrain(program);
  registerEval(program);
  registerDemo(program);
  registerConvert(program);
  registerUncertainty(program);
  registerShift(program);
  registerEnsemble(program);
  registerSweep(program);
  registerScore(program);
  registerQueue(program);
  return program;
}

/** The exit code of a command line that cannot be parsed (POSIX utilities, argparse, click). */
export const USAGE_EXIT_CODE = 2;

/**
 * The process exit code of a commander error: 0 for `--help` and `--version`, otherwise
 * {@link USAGE_EXIT_CODE} (2): commander raises only for command lines it cannot parse (an
 * unknown command or option, a missing or malformed option value, a missing required option, no
 * command). Errors of a command's action (a missing checkpoint, an unreachable Redis) exit 1.
 * @param error the error commander threw under `exitOverride`.
 * @returns the exit code.
 */
export function commanderExitCode(error: CommanderError): number {
  return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
}

/** Make `cmd` and all its subcommands throw their exits as `CommanderError` (no `process.exit`). */
function throwExits(cmd: Command): void {
  cmd.exitOverride();
  for (const c of cmd.commands) throwExits(c);
}

/**
 * Entry point used by `bin/deepprob.js`; resolves to the process exit code: 0 on success and for
 * `--help`/`--version`, 2 for a command line that cannot be parsed (commander has printed the
 * message and the nearest command or option), 128 + n for a graceful stop by signal n; any other
 * error is thrown (the launcher prints its message and exits 1).
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  throwExits(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    // commander has written its message (and '(Did you mean ...?)') to stderr already
    if (e instanceof CommanderError) return commanderExitCode(e);
    // a graceful stop: its message says what was done and saved (and how to resume); 130/143/129
    if (e instanceof RunInterrupted) {
      console.error(e.message);
      return e.exitCode;
    }
    throw flagNamedError(e, program);
  }
  return 0;
}
