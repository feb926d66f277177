import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneGateway } from '../src/cli/commands/gateway.js';
import { loadGatewayConfig } from '../src/gateway/index.js';
import { openStore } from '../src/store/index.js';
import { startFakeOpenAi, type FakeLlm } from './helpers/fake-llm.js';
import { fillFilesystem, until } from './helpers/wait.js';

/** `warren gateway` with WARREN_HOME on a full 8 MiB tmpfs: it answers, warns, and writes the usage later. */
describe('warren gateway with WARREN_HOME on a full disk', () => {
  let upstream: FakeLlm;
  let mountPoint: string;
  beforeAll(async () => {
    upstream = await startFakeOpenAi();
    mountPoint = mkdtempSync(join(tmpdir(), 'warren-small-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    await upstream.close();
    execFileSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('keeps answering model calls, warns, and records every call once space returns', async () => {
    const env = { WARREN_HOME: join(mountPoint, 'home') };
    const configPath = join(mountPoint, 'gateway.yaml');
    writeFileSync(
      configPath,
      [
        'model_list:',
        '  - model_name: gpt-fake',
        '    litellm_params:',
        '      model: openai/gpt-fake',
        `      api_base: ${upstream.url}/v1`,
        '      api_key: sk-fake',
        'general_settings:',
        '  master_key: sk-disk-full-master',
      ].join('\n'),
    );
    const warnings: string[] = [];
    const running = await startStandaloneGateway({
      config: loadGatewayConfig(configPath, {}),
      env,
      port: 0,
      host: '127.0.0.1',
      warn: (line) => warnings.push(line),
    });
    const call = async () =>
      (
        await fetch(`${running.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-disk-full-master' },
          body: JSON.stringify({ model: 'gpt-fake', messages: [{ role: 'user', content: 'hi' }] }),
        })
      ).status;
    try {
      expect(await call()).toBe(200);
      const filler = join(mountPoint, 'filler');
      fillFilesystem(filler);
      const statuses: number[] = [];
      for (
        let index = 0;
        index < 200 && !warnings.some((line) => line.includes('refuses usage'));
        index += 1
      ) {
        statuses.push(await call());
      }
      expect(warnings.join('\n')).toMatch(
        /gateway: the store refuses usage \(SQLITE_FULL[^)]*\); \d+ held in memory/,
      );
      for (let index = 0; index < 10; index += 1) statuses.push(await call());
      expect(new Set(statuses)).toEqual(new Set([200]));
      rmSync(filler);
      await until(
        () => warnings.some((line) => line.includes('the store takes usage again')),
        'the recovery',
      );
      const reader = openStore(join(env.WARREN_HOME, 'warren.db'));
      try {
        expect(reader.usage.list({ limit: 10_000 })).toHaveLength(1 + statuses.length);
      } finally {
        reader.close();
      }
    } finally {
      await running.close();
    }
  });
});
