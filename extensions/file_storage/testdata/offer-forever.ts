// Child process for the kill -9 test: offers batches forever, printing the
// body of each one once `offer` resolved (= acknowledged to a sender).
import { FileQueue } from '../file-queue.ts';
import { silentLogger } from '../../../core/telemetry/logger.ts';
import { newLogRecord } from '../../../core/model.ts';
import { Payload } from '../../../core/payload.ts';

const q = await FileQueue.open(process.argv[2]!, 1_000_000, silentLogger);
for (let i = 0; ; i++) {
  const data = Payload.logs({ resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [newLogRecord({ body: `b${i}` })] }] }] });
  await q.offer({ signal: 'logs', data, count: 1, dedupToken: `t${i}` });
  process.stdout.write(`acked b${i}\n`);
}
