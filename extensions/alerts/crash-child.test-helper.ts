/**
 * The child of the kill -9 test: starts the alerts extension over a store
 * and queues in argv[2] with a webhook nobody answers (argv[3]), raises
 * argv[4] alerts, and says READY once they are queued; the test then kills
 * it with SIGKILL.
 */
import { signal, startFixture } from './fixture.test-helper.ts';
import { waitFor } from '../../test/helpers.ts';

const [dir, url, count] = process.argv.slice(2) as [string, string, string];
const f = await startFixture({ storage: 'file_storage', webhook: { endpoint: url, headers: {}, timeout: 500 }, retry: { initial_interval: 100, max_interval: 200 } }, {}, [], dir);
for (let i = 0; i < Number(count); i++) f.alerts.raise(signal({ key: `crash-${i}` }));
// Queued (each offer resolves after its fsync) and at least one attempt failed.
await waitFor(() => f.metrics.sum('trailhouse_alerts_deliveries', { target: 'webhook', outcome: 'failed' }) >= 1, 20_000, 'a failed attempt');
await new Promise((r) => setTimeout(r, 1000));
await f.alerts.flushForTest();
process.stdout.write('READY\n');
setInterval(() => undefined, 1000);
