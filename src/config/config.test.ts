import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, openHome, parseConfig, parseSize, resolveHomePath } from './index.js';

describe('WARREN_HOME', () => {
  it('prefers WARREN_HOME, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(resolveHomePath({ WARREN_HOME: '/a/b' })).toBe('/a/b');
    expect(resolveHomePath({ XDG_DATA_HOME: '/x' })).toBe('/x/warren');
    expect(resolveHomePath({})).toMatch(/\.local\/share\/warren$/);
  });

  it('creates its folders with mode 0700', () => {
    const root = join(mkdtempSync(join(tmpdir(), 'warren-home-')), 'home');
    const home = openHome({ WARREN_HOME: root });
    for (const dir of [home.root, home.caDir, home.runDir]) expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});

describe('warren.yaml', () => {
  it('fills defaults for an empty file and a missing default file', () => {
    const config = parseConfig('', 'warren.yaml');
    expect(config.policy).toEqual({ allow: [], deny: [] });
    expect(config.sandbox.driver).toBe('bwrap');
    expect(loadConfig('/nonexistent/warren.yaml', { explicit: false }).proxy.bodyCapBytes).toBe(1048576);
  });

  it('refuses a missing file named explicitly', () => {
    expect(() => loadConfig('/nonexistent/warren.yaml', { explicit: true })).toThrow(/does not exist/);
  });

  it('reports every problem as path: message, unknown keys included', () => {
    const text = 'policy:\n  allow: [1]\n  alow: []\nsandbox:\n  pids: -1\n';
    expect(() => parseConfig(text, 'w.yaml')).toThrow(
      /policy\.allow\.0:[\s\S]*policy:.*alow[\s\S]*sandbox\.pids:/,
    );
  });

  it('reads rules as strings or objects with reasons, and keeps LiteLLM keys', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'warren-cfg-')), 'w.yaml');
    writeFileSync(
      path,
      'policy:\n  allow:\n    - a.test\n    - rule: "*.b.test"\n      reason: why\nmodel_list:\n  - model_name: x\n    litellm_params: { model: openai/x }\n',
    );
    const config = loadConfig(path, { explicit: true });
    expect(config.policy.allow).toEqual(['a.test', { rule: '*.b.test', reason: 'why' }]);
    expect(config.model_list).toHaveLength(1);
  });

  it('reads sandbox.protectedPaths as true, false or a list change, with paths inside the workspace only', () => {
    expect(parseConfig('', 'w.yaml').sandbox.protectedPaths).toBeUndefined();
    expect(parseConfig('sandbox:\n  protectedPaths: false\n', 'w.yaml').sandbox.protectedPaths).toBe(false);
    expect(
      parseConfig('sandbox:\n  protectedPaths:\n    add: [tools/hooks]\n    remove: [.vscode]\n', 'w.yaml')
        .sandbox.protectedPaths,
    ).toEqual({ add: ['tools/hooks'], remove: ['.vscode'] });
    for (const path of ['/etc/profile', '../outside', 'a/./b'])
      expect(
        () => parseConfig(`sandbox:\n  protectedPaths:\n    add: ["${path}"]\n`, 'w.yaml'),
        path,
      ).toThrow(/sandbox\.protectedPaths\.add\.0: a path relative to the workspace/);
  });

  it('refuses invalid YAML with the file name', () => {
    expect(() => parseConfig('a: [', 'bad.yaml')).toThrow(/bad\.yaml is not valid YAML/);
  });
});

describe('sizes', () => {
  it('parses units and refuses nonsense', () => {
    expect(parseSize('512m')).toBe(512 * 1024 ** 2);
    expect(parseSize('4G')).toBe(4 * 1024 ** 3);
    expect(parseSize('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseSize(1000)).toBe(1000);
    expect(() => parseSize('lots')).toThrow(/not a size/);
  });
});
