import { describe, expect, it } from 'vitest';
import type { HookExchange } from './hooks.js';
import { loadSecretValues, resolveSecretDefinitions } from './secrets-definitions.js';
import { createSecretSwap } from './secrets.js';

const exchange = (
  host: string,
  rawHeaders: string[],
  url = `https://${host}/repo.git/info/refs`,
): HookExchange => ({
  sessionId: 's1',
  method: 'GET',
  url,
  scheme: 'https',
  host,
  port: 443,
  path: new URL(url).pathname,
  rawHeaders,
});

async function swapFor(entries: Parameters<typeof loadSecretValues>[0], env: NodeJS.ProcessEnv) {
  return createSecretSwap(await loadSecretValues(entries, env));
}

describe('secret definitions', () => {
  it('applies presets and keeps explicit settings', () => {
    const [github, custom] = resolveSecretDefinitions([
      { name: 'GITHUB_TOKEN' },
      { name: 'INTERNAL_API_KEY', hosts: ['api.internal.example', '*.corp.example:8443'] },
    ]);
    expect(github).toEqual({
      name: 'GITHUB_TOKEN',
      hosts: ['github.com', 'api.github.com', 'uploads.github.com', 'codeload.github.com'],
      how: 'basic',
      username: 'x-access-token',
    });
    expect(custom).toEqual({
      name: 'INTERNAL_API_KEY',
      hosts: ['api.internal.example', '*.corp.example:8443'],
      how: 'header',
      username: '',
    });
    expect(resolveSecretDefinitions([{ name: 'CLAUDE_CODE_OAUTH_TOKEN' }])[0]?.hosts).toEqual([
      'api.anthropic.com',
    ]);
    expect(resolveSecretDefinitions([{ name: 'TWINE_PASSWORD' }])[0]?.username).toBe('__token__');
  });

  it('refuses secrets that would go nowhere, anywhere, or twice', () => {
    expect(() => resolveSecretDefinitions([{ name: 'MY_KEY' }])).toThrow('secrets.MY_KEY: no hosts');
    expect(() => resolveSecretDefinitions([{ name: 'K', hosts: ['*'] }])).toThrow(/is not a host/);
    expect(() => resolveSecretDefinitions([{ name: 'K', hosts: ['*.com'] }])).toThrow(/too broad/);
    expect(() =>
      resolveSecretDefinitions([
        { name: 'K', hosts: ['a.example'] },
        { name: 'K', hosts: ['b.example'] },
      ]),
    ).toThrow(/defined twice/);
  });

  it('loads values from the environment or a file and fails closed when missing', async () => {
    const [fromEnv] = await loadSecretValues([{ name: 'GITHUB_TOKEN', env: 'HOST_GH' }], {
      HOST_GH: 'ghp_real',
    });
    expect(fromEnv?.value).toBe('ghp_real');
    await expect(loadSecretValues([{ name: 'GITHUB_TOKEN' }], {})).rejects.toThrow(
      "secrets.GITHUB_TOKEN: the variable GITHUB_TOKEN is not set in Warren's environment",
    );
    await expect(
      loadSecretValues([{ name: 'GITHUB_TOKEN', file: '/nonexistent/token' }], {}),
    ).rejects.toThrow(/cannot read \/nonexistent\/token \(ENOENT\)/);
  });
});

describe('secret swap', () => {
  it('gives the sandbox only a placeholder and a git credential helper', async () => {
    const swap = await swapFor([{ name: 'GITHUB_TOKEN' }], { GITHUB_TOKEN: 'ghp_real_value' });
    const placeholder = swap.placeholders.GITHUB_TOKEN as string;
    expect(placeholder).toMatch(/^warren-placeholder-github-token-[0-9a-f]{24}$/);
    expect(swap.environment.GITHUB_TOKEN).toBe(placeholder);
    expect(JSON.stringify(swap.environment)).not.toContain('ghp_real_value');
    expect(swap.environment.GIT_CONFIG_KEY_0).toBe('credential.helper');
    expect(swap.environment.GIT_CONFIG_VALUE_0).toContain('github.com|github.com:*|api.github.com');
    expect(swap.environment.GIT_CONFIG_VALUE_0).toContain('"$GITHUB_TOKEN"');
    const other = await swapFor([{ name: 'GITHUB_TOKEN' }], { GITHUB_TOKEN: 'ghp_real_value' });
    expect(other.placeholders.GITHUB_TOKEN).not.toBe(placeholder); // per session
  });

  it('swaps the placeholder in headers and inside Basic credentials, only for its hosts', async () => {
    const swap = await swapFor([{ name: 'GITHUB_TOKEN' }], { GITHUB_TOKEN: 'ghp_real_value' });
    const placeholder = swap.placeholders.GITHUB_TOKEN as string;
    const bearer = await swap.hook.beforeForward!(
      exchange('api.github.com', ['Authorization', `token ${placeholder}`, 'Accept', '*/*']),
    );
    expect(bearer).toEqual({
      kind: 'continue',
      rawHeaders: ['Authorization', 'token ghp_real_value', 'Accept', '*/*'],
      note: 'secret GITHUB_TOKEN inserted for api.github.com',
    });
    const basic = Buffer.from(`x-access-token:${placeholder}`).toString('base64');
    const git = await swap.hook.beforeForward!(exchange('github.com', ['Authorization', `Basic ${basic}`]));
    expect(git.kind).toBe('continue');
    const sent = git.kind === 'continue' ? (git.rawHeaders?.[1] ?? '') : '';
    expect(Buffer.from(sent.replace('Basic ', ''), 'base64').toString()).toBe(
      'x-access-token:ghp_real_value',
    );
  });

  it('refuses a placeholder bound for any other host, in a header, Basic credentials or the URL', async () => {
    const swap = await swapFor([{ name: 'GITHUB_TOKEN' }], { GITHUB_TOKEN: 'ghp_real_value' });
    const placeholder = swap.placeholders.GITHUB_TOKEN as string;
    const header = await swap.hook.beforeForward!(exchange('evil.example', ['X-Token', placeholder]));
    expect(header).toEqual({
      kind: 'refuse',
      rule: 'secret:GITHUB_TOKEN',
      reason:
        'the placeholder of secret GITHUB_TOKEN may only be sent to github.com, api.github.com, uploads.github.com, codeload.github.com; a request to evil.example carried it, so Warren refused it (the real value was not sent)',
    });
    const basic = Buffer.from(`user:${placeholder}`).toString('base64');
    expect(
      (
        await swap.hook.beforeForward!(
          exchange('github.com.evil.example', ['authorization', `basic ${basic}`]),
        )
      ).kind,
    ).toBe('refuse');
    const inUrl = await swap.hook.beforeForward!(
      exchange('github.com', [], `https://github.com/x?token=${placeholder}`),
    );
    expect(inUrl.kind === 'refuse' && inUrl.reason).toMatch(/only into request headers/);
  });

  it('leaves requests without placeholders alone, and honours ports and wildcards', async () => {
    const swap = await swapFor([{ name: 'API_KEY', hosts: ['*.corp.example:8443'] }], { API_KEY: 'real' });
    const placeholder = swap.placeholders.API_KEY as string;
    expect(await swap.hook.beforeForward!(exchange('api.corp.example', ['Accept', '*/*']))).toEqual({
      kind: 'continue',
    });
    const rightPort = { ...exchange('api.corp.example', ['X-Api-Key', placeholder]), port: 8443 };
    expect((await swap.hook.beforeForward!(rightPort)).kind).toBe('continue');
    expect(
      (await swap.hook.beforeForward!(exchange('api.corp.example', ['X-Api-Key', placeholder]))).kind,
    ).toBe('refuse');
    expect(
      (
        await swap.hook.beforeForward!({
          ...exchange('corp.example', ['X-Api-Key', placeholder]),
          port: 8443,
        })
      ).kind,
    ).toBe('refuse');
    expect(swap.environment.GIT_CONFIG_COUNT).toBeUndefined(); // header secrets need no git helper
  });
});
