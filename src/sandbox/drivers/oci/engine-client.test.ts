import { describe, expect, it } from 'vitest';
import {
  engineProcessEnvironment,
  leftoverListArgs,
  parseLeftoverList,
  removeArgs,
} from './engine-client.js';

describe('engine client', () => {
  it("lists this instance's containers with the label syntax of each CLI", () => {
    expect(leftoverListArgs('podman', 'main')).toEqual([
      'ps',
      '--all',
      '--filter',
      'label=warren.instance=main',
      '--format',
      '{{.ID}}\t{{index .Labels "warren.session"}}',
    ]);
    expect(leftoverListArgs('docker', 'main').at(-1)).toBe('{{.ID}}\t{{.Label "warren.session"}}');
  });

  it('parses the listing and ignores lines that are not container ids', () => {
    expect(parseLeftoverList('0123abcdef01\ts-1\nWARNING something\n\nabcdefabcdef\ts-2\n')).toEqual([
      { id: '0123abcdef01', sessionId: 's-1' },
      { id: 'abcdefabcdef', sessionId: 's-2' },
    ]);
  });

  it('removes at once', () => {
    expect(removeArgs('podman', ['a'])).toEqual(['rm', '--force', '--ignore', '--time', '0', 'a']);
    expect(removeArgs('docker', ['a'])).toEqual(['rm', '--force', 'a']);
  });

  it('passes the engine only folder variables, never secrets', () => {
    const environment = engineProcessEnvironment({
      HOME: '/root',
      GITHUB_TOKEN: 'ghp_x',
      XDG_RUNTIME_DIR: '/run/user/0',
    });
    expect(environment).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin',
      LANG: 'C.UTF-8',
      HOME: '/root',
      XDG_RUNTIME_DIR: '/run/user/0',
    });
  });
});
