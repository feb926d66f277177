import { spawn } from '@lydell/node-pty';

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freshDirectories } from './warren-cli.js';

const bin = fileURLToPath(new URL('../../bin/warren.js', import.meta.url));

function runInTerminal(
  args: string[],
  env: Record<string, string>,
  onOutput?: (text: string, write: (data: string) => void) => void,
) {
  return new Promise<{ output: string; exitCode: number }>((resolve) => {
    const terminal = spawn(process.execPath, [bin, ...args], {
      cols: 100,
      rows: 30,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', ...env },
    });
    let output = '';
    terminal.onData((data) => {
      output += data;
      onOutput?.(output, (text) => terminal.write(text));
    });
    terminal.onExit(({ exitCode }) => resolve({ output, exitCode }));
  });
}

describe('warren run in a terminal', () => {
  it('runs the command in a pseudo-terminal of the same size, with input forwarded', async () => {
    const { home, workspace } = freshDirectories();
    let answered = false;
    const result = await runInTerminal(
      [
        'run',
        '--dir',
        workspace,
        '--',
        'sh',
        '-c',
        '[ -t 0 ] && [ -t 1 ] && echo on-a-terminal; stty size; printf "name? "; read name; echo "hi $name"; exit 4',
      ],
      { WARREN_HOME: home },
      (output, write) => {
        if (!answered && output.includes('name? ')) {
          answered = true;
          write('warren\r');
        }
      },
    );
    expect(result.output).toContain('on-a-terminal');
    expect(result.output).toContain('30 100');
    expect(result.output).toContain('hi warren');
    expect(result.exitCode).toBe(4);
    expect(result.output).toMatch(
      /warren: session s-[0-9a-f]{12} ended; 0 request\(s\) recorded: warren flows --session s-/,
    );
  });

  it('delivers all output of a command that prints a lot and exits at once', async () => {
    const { home, workspace } = freshDirectories();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const result = await runInTerminal(
        [
          'run',
          '--dir',
          workspace,
          '--',
          'sh',
          '-c',
          'head -c 200000 /dev/zero | tr "\\0" a; echo; echo THE-END',
        ],
        { WARREN_HOME: home },
      );
      expect(result.exitCode).toBe(0);
      expect(result.output.slice(0, result.output.indexOf('THE-END')).split('a').length - 1).toBe(200000);
      expect(result.output).toContain('THE-END');
    }
  });
});
