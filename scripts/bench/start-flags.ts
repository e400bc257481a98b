/**
 * The node flags `npm start` runs the pipeline with (package.json's `start`
 * script, between `node` and the script), so a bench's pipeline runs as a
 * user's does.
 */
import { readFileSync } from 'node:fs';

/** A bench's `--node-flags "..."` value as flags, or npm start's when it gave none. */
export function pipelineNodeFlags(value: string | undefined): string[] {
  return value?.split(' ').filter(Boolean) ?? startNodeFlags();
}

export function startNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  const script = words.findIndex((w) => w.endsWith('trailhouse.mjs'));
  if (words[0] !== 'node' || script < 0) throw new Error(`package.json start script is not "node [flags] bin/trailhouse.mjs …": ${pkg.scripts.start}`);
  return words.slice(1, script);
}
