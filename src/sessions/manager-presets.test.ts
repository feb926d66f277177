import { describe, expect, it } from 'vitest';
import { defaultAgentPresets, mergeAgentPresets, resolvePreset } from './manager-presets.js';

describe('agent presets from config', () => {
  it('keeps the built-ins when nothing is configured', () => {
    expect(mergeAgentPresets(defaultAgentPresets, {})).toEqual(defaultAgentPresets);
  });

  it('replaces a built-in by name as a whole and appends new names in file order', () => {
    const merged = mergeAgentPresets(defaultAgentPresets, {
      zeta: { command: ['zeta'] },
      claude: { command: ['claude'], hosts: ['api.example.test'], description: 'Claude, plain' },
      aider: { command: ['aider', '--yes'], env: { AIDER_DARK_MODE: '1' }, modelVariable: 'AIDER_MODEL' },
    });
    expect(merged.map((preset) => preset.name)).toEqual([
      'shell',
      'claude',
      'codex',
      'opencode',
      'zeta',
      'aider',
    ]);
    // Nothing of the built-in claude survives: not its env, not its model variable.
    expect(merged[1]).toEqual({
      name: 'claude',
      title: 'Claude, plain',
      command: ['claude'],
      env: {},
      hosts: ['api.example.test'],
    });
    expect(merged[4]?.title).toBe('zeta');
    expect(resolvePreset(merged, 'aider', 'gpt-x')).toEqual({
      command: ['aider', '--yes'],
      env: { AIDER_DARK_MODE: '1', AIDER_MODEL: 'gpt-x' },
      hosts: [],
    });
    expect(resolvePreset(merged, 'claude', 'opus')?.env).toEqual({});
  });

  it('does not share arrays or objects with the config it was built from', () => {
    const configured = { tool: { command: ['tool'], env: { A: '1' }, hosts: ['a.example.test'] } };
    const [, , , , tool] = mergeAgentPresets(defaultAgentPresets, configured);
    tool?.command.push('--changed');
    tool?.hosts.push('b.example.test');
    expect(configured.tool).toEqual({ command: ['tool'], env: { A: '1' }, hosts: ['a.example.test'] });
  });
});
