import { describe, expect, it } from 'vitest';
import { flag, parseArgs } from './args.ts';

describe('parseArgs', () => {
  it('takes a value, --name=value, and a flag followed by another flag as boolean', () => {
    const a = parseArgs(['--config', 'a.yaml', '--json', '--phases=logs', 'pos']);
    expect(flag(a, 'config')).toBe('a.yaml');
    expect(a.flags.get('json')).toBe(true);
    expect(flag(a, 'phases')).toBe('logs');
    expect(a.positional).toEqual(['pos']);
  });

  it('gives a value flag the next word even when it starts with "--"', () => {
    const argv = ['--node-flags', '--trace-gc --max-semi-space-size=64', '--phases', 'logs'];
    expect(flag(parseArgs(argv), 'node-flags')).toBeUndefined();
    const a = parseArgs(argv, [], ['node-flags']);
    expect(flag(a, 'node-flags')).toBe('--trace-gc --max-semi-space-size=64');
    expect(flag(a, 'phases')).toBe('logs');
  });

  it('keeps boolean flags valueless', () => {
    const a = parseArgs(['--json', 'x'], ['json']);
    expect(a.flags.get('json')).toBe(true);
    expect(a.positional).toEqual(['x']);
  });
});
