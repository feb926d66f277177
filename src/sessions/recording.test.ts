import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTerminalRecording } from './recording.js';

describe('asciicast v2 recording', () => {
  it('writes a header, output events with relative times and resize events', async () => {
    let now = 10_000;
    const path = join(mkdtempSync(join(tmpdir(), 'warren-cast-')), 'terminal.cast');
    const recording = createTerminalRecording({ path, cols: 80, rows: 24, title: 't', now: () => now });
    recording.output('hello ');
    recording.output('"world"\r\n');
    now += 1500;
    recording.resize(100, 30);
    now += 250;
    recording.output('\u001b[31mred\u001b[0m');
    await recording.close();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    expect(lines[0]).toEqual({
      version: 2,
      width: 80,
      height: 24,
      timestamp: 10,
      env: { TERM: 'xterm-256color' },
      title: 't',
    });
    expect(lines.slice(1)).toEqual([
      [0, 'o', 'hello "world"\r\n'],
      [1.5, 'r', '100x30'],
      [1.75, 'o', '\u001b[31mred\u001b[0m'],
    ]);
  });
});
