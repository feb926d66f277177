import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { WarrenError } from '../errors/index.js';

/**
 * Where a session's /workspace comes from. Everything but `in-place` gives the session its own copy,
 * so that an agent can only damage that copy; `in-place` hands it the folder itself.
 */
export type WorkspaceSource =
  | { kind: 'empty' }
  | { kind: 'copy'; path: string }
  | { kind: 'clone'; url: string }
  | { kind: 'in-place'; path: string };

function existingDirectory(path: string): string {
  if (!isAbsolute(path)) {
    throw new WarrenError('invalid-argument', `workspace path must be absolute, got "${path}"`);
  }
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new WarrenError('invalid-argument', `workspace ${path} is not a directory on the server`);
  }
  return path;
}

/** Transports git may use for a clone: never `ext::` (runs commands) or other helpers. */
const ALLOWED_GIT_PROTOCOLS = 'file:https:http:ssh:git';

async function gitClone(url: string, destination: string): Promise<void> {
  if (url.startsWith('-') || /^ext::/i.test(url)) {
    throw new WarrenError('invalid-argument', `not a repository URL: "${url}"`);
  }
  const output: Buffer[] = [];
  const code = await new Promise<number>((resolve) => {
    const child = spawn('git', ['clone', '--quiet', '--', url, destination], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: ALLOWED_GIT_PROTOCOLS },
    });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    child.once('error', () => resolve(127));
    child.once('close', (status) => resolve(status ?? 1));
  });
  if (code === 127) {
    throw new WarrenError('missing-dependency', 'git is not installed on the server', {
      hint: 'install it (apt-get install git)',
    });
  }
  if (code !== 0) {
    const detail = Buffer.concat(output).toString('utf8').trim().slice(-500);
    throw new WarrenError(
      'invalid-argument',
      `git clone of ${url} failed: ${detail || `exit status ${code}`}`,
    );
  }
}

/** Creates (or picks, for `in-place`) the folder mounted at /workspace; returns its path. */
export async function prepareWorkspace(source: WorkspaceSource, destination: string): Promise<string> {
  switch (source.kind) {
    case 'empty':
      mkdirSync(destination, { recursive: true });
      return destination;
    case 'copy':
      cpSync(existingDirectory(source.path), destination, { recursive: true, preserveTimestamps: true });
      return destination;
    case 'clone':
      if (isAbsolute(source.url)) existingDirectory(source.url);
      await gitClone(source.url, destination);
      return destination;
    case 'in-place':
      return existingDirectory(source.path);
  }
}
