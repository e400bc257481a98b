// Child process for the kill -9 tests: offers batches forever from
// `concurrency` senders at once (default 1), printing the body of each one
// once `offer` resolved (= acknowledged to a sender).
import { FileQueue } from '../file-queue.ts';
import { silentLogger } from '../../../core/telemetry/logger.ts';
import { newLogRecord } from '../../../core/model.ts';
import { Payload } from '../../../core/payload.ts';

const q = await FileQueue.open(process.argv[2]!, 1_000_000, silentLogger);
const concurrency = Number(process.argv[3] ?? 1);
let next = 0;

async function sender(): Promise<void> {
  for (;;) {
    const i = next++;
    const data = Payload.logs({ resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [newLogRecord({ body: `b${i}` })] }] }] });
    await q.offer({ signal: 'logs', data, count: 1, dedupToken: `t${i}` });
    process.stdout.write(`acked b${i}\n`);
  }
}

await Promise.all(Array.from({ length: concurrency }, sender));
