#!/usr/bin/env -S node --v8-pool-size=1
// One V8 helper thread rather than four (as `npm start` and the container run it too): on a
// machine of a few cores, four concurrent markers of the pipeline thread's heap outran the main
// thread, and senders' answers waited for a core (BENCHMARKS.md, the ack p99). Another value:
// `node --v8-pool-size=N bin/trailhouse.mjs …`.
// The `trailhouse` command. It runs dist/trailhouse.mjs (`npm run build`, also
// made by `npm install`) while that bundle is newer than every source it was
// built from, and the TypeScript sources through tsx's loader otherwise, so a
// fresh clone and an edited tree both run what the sources say.
// TRAILHOUSE_FROM_SOURCE=1 always runs the sources.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function freshBundle() {
  if (process.env.TRAILHOUSE_FROM_SOURCE === '1') return undefined;
  try {
    const { built, inputs } = JSON.parse(readFileSync(join(root, 'dist/build.json'), 'utf8'));
    if (!Number.isFinite(built) || !Array.isArray(inputs) || inputs.length === 0) return undefined;
    // A source changed (or went away) after the build: the bundle is stale.
    for (const p of inputs) if (statSync(join(root, p)).mtimeMs > built) return undefined;
    return join(root, 'dist/trailhouse.mjs');
  } catch {
    return undefined;
  }
}

const bundle = freshBundle();
let main, pipelineThreadMain;
process.env.TRAILHOUSE_CODE = bundle ? 'dist' : 'source';
if (bundle) {
  ({ main, pipelineThreadMain } = await import(bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main, pipelineThreadMain } = await import('./cli.ts'));
}
// On the worker thread `trailhouse run` starts for the pipelines behind the spool (core/pipeline-thread.ts).
const { workerData } = await import('node:worker_threads');
if (workerData?.role === 'pipeline-thread') await pipelineThreadMain(workerData);
else {
  const code = await main(process.argv.slice(2));
  if (typeof code === 'number') process.exitCode = code;
}
