#!/usr/bin/env node
// `npm run build` (also run by `npm install` / `npm ci` through `prepare`):
// bundles the product into dist/trailhouse.mjs with esbuild (tsx's own
// dependency), npm packages left external. bin/trailhouse.mjs runs the bundle
// while it is newer than every source it was built from, and the sources
// through tsx otherwise, so an edit never runs stale code. Why bundle at all:
// tsx's loader and one module per file cost a process ~40 MiB of resident
// memory that a single prebuilt file does not (DESIGN.md, "Running from a bundle").
import { build } from 'esbuild';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const started = Date.now();

await mkdir(dist, { recursive: true });
const tmp = join(dist, `.trailhouse-${process.pid}.mjs`);
const result = await build({
  entryPoints: [join(root, 'bin/cli.ts')],
  outfile: tmp,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // Class and function names appear in logs and errors.
  keepNames: true,
  metafile: true,
  logLevel: 'warning',
});
// The sources, relative to the project root: the launcher compares their mtimes with the build's.
const inputs = Object.keys(result.metafile.inputs).map((p) => relative(root, join(root, p)));
await writeFile(join(dist, 'build.json'), `${JSON.stringify({ built: started, inputs }, null, 0)}\n`);
await rename(tmp, join(dist, 'trailhouse.mjs'));
if (!process.env.npm_lifecycle_event?.startsWith('prepare')) {
  process.stdout.write(`dist/trailhouse.mjs: ${inputs.length} sources in ${Date.now() - started} ms\n`);
}
