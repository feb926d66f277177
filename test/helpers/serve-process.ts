import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const warren = join(import.meta.dirname, '..', '..', 'bin', 'warren.js');

/**
 * Starts the built `warren serve` on a free port, as a process of its own (so a test can `kill -9` it), and
 * reads its URL (and setup token, while no password is set) from its output.
 */
export async function serveProcess(
  home: string,
): Promise<{ child: ChildProcess; url: string; setupToken?: string }> {
  const child = spawn(process.execPath, [warren, 'serve', '--port', '0'], {
    env: { ...process.env, WARREN_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (!/serving on (\S+)/.test(output) || (/No password/.test(output) && !/#\/setup\/\S+/.test(output))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`warren serve did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const url = (/serving on (\S+)/.exec(output)?.[1] as string).replace(/\/$/, '');
  const setupToken = /#\/setup\/(\S+)/.exec(output)?.[1];
  return { child, url, ...(setupToken ? { setupToken } : {}) };
}
