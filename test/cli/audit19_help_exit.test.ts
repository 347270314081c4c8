/**
 * Audit 19: help text against the parser, and exit codes. Every option a command's parser accepts
 * is in its `--help` (the global `--backend`, accepted after any subcommand, was in none of
 * theirs); every subcommand is in its parent's help. A command line that cannot be parsed exits 2
 * (it exited 1, as any failure did), naming the nearest command or option; --help and --version
 * exit 0; a failure of the command itself exits 1.
 */
import type { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { buildProgram, main, USAGE_EXIT_CODE } from '../../src/cli/main.js';
import { runCli } from '../faults/cli_runner.js';

function allCommands(cmd: Command, path: string[] = []): [string[], Command][] {
  return cmd.commands.flatMap((c) => [
    [[...path, c.name()], c] as [string[], Command],
    ...allCommands(c, [...path, c.name()]),
  ]);
}

/** The `--long` flags the help text shows in its option sections. */
function helpFlags(text: string): Set<string> {
  const flags = new Set<string>();
  let inOptions = false;
  for (const line of text.split('\n')) {
    if (/^(Global )?Options:/.test(line)) inOptions = true;
    else if (/^\S/.test(line)) inOptions = false;
    else if (inOptions) {
      const m = /^\s+(?:-\w, )?(--[\w-]+)/.exec(line);
      if (m) flags.add(m[1] as string);
    }
  }
  return flags;
}

describe('audit19 --help lists what the parser accepts', () => {
  const program = buildProgram();
  it('every command: the help flags are exactly the accepted flags (its own and the global ones)', () => {
    const global = program.options.map((o) => o.long as string);
    for (const [path, cmd] of allCommands(program)) {
      const accepted = new Set([...cmd.options.map((o) => o.long as string), ...global, '--help']);
      expect([...helpFlags(cmd.helpInformation())].sort(), path.join(' ')).toEqual(
        [...accepted].sort(),
      );
    }
    expect([...helpFlags(program.helpInformation())].sort()).toEqual(
      [...new Set([...global, '--help', '--version'])].sort(),
    );
  });
  it('every subcommand is listed in its parent help', () => {
    for (const [path, cmd] of [[[], program] as [string[], Command], ...allCommands(program)]) {
      const text = cmd.helpInformation();
      for (const sub of cmd.commands)
        expect(text, `${path.join(' ')} lists ${sub.name()}`).toMatch(
          new RegExp(`^  ${sub.name()}\\b`, 'm'),
        );
    }
  });
  it('an option given after the subcommand that the parser accepts: --backend', async () => {
    const r = await runCli(['train', '--backend', 'cpu', '--epochs', '0']);
    expect(r.stderr).toMatch(/option '--epochs <n>' argument '0' is invalid/);
    expect(r.stderr).not.toMatch(/unknown option/);
  });
});

describe('audit19 exit codes', () => {
  const usage: [string[], RegExp][] = [
    [['trian'], /unknown command 'trian'\n?\s*\(Did you mean train\?\)/],
    [['train', '--epoch', '1'], /unknown option '--epoch'\n?\s*\(Did you mean --epochs\?\)/],
    [['queue', 'stauts'], /unknown command 'stauts'\n?\s*\(Did you mean status\?\)/],
    [['shift', '--method', 'plain:x'], /Did you mean --methods\?/],
    [['train', '--epochs', '0'], /option '--epochs <n>' argument '0' is invalid/],
    [['eval'], /required option '--checkpoint <dir>' not specified/],
    [['eval', '--checkpoint'], /option '--checkpoint <dir>' argument missing/],
    [['uncertainty', '--checkpoint', 'x', '--resize', 'crop'], /argument 'crop' is invalid/],
  ];
  it('a command line that cannot be parsed exits 2, naming the nearest command or option', async () => {
    expect(USAGE_EXIT_CODE).toBe(2);
    for (const [args, message] of usage) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('main: 2 for usage errors, no command included; 0 for --help and --version; a failing command throws (exit 1)', async () => {
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true),
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true),
      vi.spyOn(console, 'error').mockImplementation(() => {}),
    ];
    try {
      const argv = (...a: string[]): string[] => ['node', 'deepprob', ...a];
      expect(await main(argv('trian'))).toBe(2);
      expect(await main(argv('train', '--bogus'))).toBe(2);
      expect(await main(argv('queue', 'status', '--bogus'))).toBe(2);
      expect(await main(argv())).toBe(2); // no command: the help, on stderr
      expect(await main(argv('--help'))).toBe(0);
      expect(await main(argv('queue', 'status', '--help'))).toBe(0);
      expect(await main(argv('--version'))).toBe(0);
      await expect(main(argv('eval', '--checkpoint', '/no/such/run-a19'))).rejects.toThrow(
        /checkpoint/,
      );
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });
});
