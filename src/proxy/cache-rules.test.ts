import { describe, expect, it } from 'vitest';
import { downloadCacheRuleFor } from './cache-rules.js';

const ruleOf = (path: string, headers: string[] = [], method = 'GET') =>
  downloadCacheRuleFor(method, path, headers)?.name;

describe('download cache rules', () => {
  it('keeps immutable registry files', () => {
    expect(ruleOf('/left-pad/-/left-pad-1.3.0.tgz')).toBe('npm-tarball');
    expect(ruleOf('/@types/node/-/node-20.19.0.tgz')).toBe('npm-tarball');
    expect(
      ruleOf(
        '/packages/3d/0c/0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab/requests-2.32.3-py3-none-any.whl',
      ),
    ).toBe('pypi-file');
    expect(ruleOf('/crates/serde/serde-1.0.210.crate')).toBe('crate');
    expect(ruleOf('/golang.org/x/text/@v/v0.14.0.zip')).toBe('go-module');
    expect(ruleOf('/golang.org/x/text/@v/v0.14.0.mod')).toBe('go-module');
  });

  it('never keeps metadata that changes: packuments, simple indexes, version lists', () => {
    expect(ruleOf('/left-pad')).toBeUndefined();
    expect(ruleOf('/@types%2fnode')).toBeUndefined();
    expect(ruleOf('/simple/requests/')).toBeUndefined();
    expect(ruleOf('/golang.org/x/text/@v/list')).toBeUndefined();
    expect(ruleOf('/golang.org/x/text/@latest')).toBeUndefined();
  });

  it('never keeps personal or partial answers, or anything but a plain GET', () => {
    const tarball = '/left-pad/-/left-pad-1.3.0.tgz';
    expect(ruleOf(tarball, ['Authorization', 'Bearer npm_x'])).toBeUndefined();
    expect(ruleOf(tarball, ['cookie', 'a=b'])).toBeUndefined();
    expect(ruleOf(tarball, ['Range', 'bytes=0-10'])).toBeUndefined();
    expect(ruleOf(`${tarball}?token=x`)).toBeUndefined();
    expect(ruleOf(tarball, [], 'POST')).toBeUndefined();
    expect(ruleOf(tarball, ['Accept', '*/*'])).toBe('npm-tarball');
  });
});
