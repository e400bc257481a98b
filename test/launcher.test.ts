// bin/trailhouse.mjs runs the bundle only while it is newer than every source it was built from.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'th-launcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

mkdirSync(join(dir, 'bin'));
mkdirSync(join(dir, 'dist'));
copyFileSync(join(root, 'bin/trailhouse.mjs'), join(dir, 'bin/trailhouse.mjs'));
symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
writeFileSync(join(dir, 'bin/cli.ts'), "export async function main(): Promise<number> { process.stdout.write('source ' + process.env.TRAILHOUSE_CODE); return 0; }\n");
writeFileSync(join(dir, 'dist/trailhouse.mjs'), "export async function main() { process.stdout.write('dist ' + process.env.TRAILHOUSE_CODE); return 0; }\n");
const src = join(dir, 'bin/cli.ts');

function build(built: number, inputs: string[] = ['bin/cli.ts']): void {
  writeFileSync(join(dir, 'dist/build.json'), JSON.stringify({ built, inputs }));
}
const run = (env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [join(dir, 'bin/trailhouse.mjs')], { env: { ...process.env, TRAILHOUSE_FROM_SOURCE: '', ...env }, encoding: 'utf8' });

describe('bin/trailhouse.mjs', () => {
  it('runs the bundle while every source is older than the build', () => {
    utimesSync(src, new Date(1_000_000), new Date(1_000_000));
    build(2_000_000);
    expect(run()).toBe('dist dist');
  });

  it('runs the sources once one of them changed after the build', () => {
    utimesSync(src, new Date(3_000_000), new Date(3_000_000));
    build(2_000_000);
    expect(run()).toBe('source source');
  });

  it('runs the sources when a source the bundle was built from is gone, or build.json is unreadable', () => {
    utimesSync(src, new Date(1_000_000), new Date(1_000_000));
    build(2_000_000, ['bin/cli.ts', 'core/removed.ts']);
    expect(run()).toBe('source source');
    writeFileSync(join(dir, 'dist/build.json'), '{"built": "yesterday", "inputs": []}');
    expect(run()).toBe('source source');
    writeFileSync(join(dir, 'dist/build.json'), 'not json');
    expect(run()).toBe('source source');
  });

  it('TRAILHOUSE_FROM_SOURCE=1 runs the sources even with a fresh bundle', () => {
    utimesSync(src, new Date(1_000_000), new Date(1_000_000));
    build(2_000_000);
    expect(run({ TRAILHOUSE_FROM_SOURCE: '1' })).toBe('source source');
  });
});
