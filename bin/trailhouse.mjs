#!/usr/bin/env node
// The `trailhouse` command. The product is TypeScript run through tsx's loader,
// so a fresh clone works straight after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
const code = await main(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
