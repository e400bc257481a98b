/**
 * Runs offer-forever.ts in a child process against `dir` with `senders`
 * concurrent offers, and kill -9s it once `n` batches were reported
 * acknowledged. Returns what was acknowledged (the bodies the child
 * printed), for a test to find again after the queue is reopened.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../../test/helpers.ts';

export async function killAfterAcked(dir: string, n: number, senders?: number): Promise<string[]> {
  const args = [fileURLToPath(new URL('./offer-forever.ts', import.meta.url)), dir, ...(senders === undefined ? [] : [String(senders)])];
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: string[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) if (l.startsWith('acked ')) acked.push(l.slice(6));
  });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitFor(() => acked.length >= n, 60_000, `${n} acknowledged batches`);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  return acked;
}
