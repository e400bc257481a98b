/**
 * What a queued item's payload becomes once its frame is written: the one
 * place the persistent queue touches the payload's side channels
 * (core/model.ts, core/client.ts).
 */
import { clientInfo, setClientInfo } from '../../core/client.ts';
import { dropRawProto, pendingRecords, setRawProto, type LogsData, type TracesData } from '../../core/model.ts';
import { lazyLogs, lazyTraces } from '../../core/otlp/lazy.ts';
import type { QueueItem } from '../../core/queue/memory-queue.ts';

/**
 * The item as its consumer gets it. Without `keepRaw` the received bytes
 * need not stay in memory beside the records (they are on disk). With it,
 * the consumer is handed exactly the bytes written (`parts`: the frame's
 * pieces, record.ts encodeRecordParts), records built only if read
 * (core/model.ts lazyPayload), as a replay would hand them. The records an
 * upstream stage decoded or built (a Zipkin or Jaeger receiver's
 * translation) can then be collected once the sender is answered, instead
 * of living on, promoted, for as long as the item is in flight (behind the
 * spool, the whole correlation window).
 */
export function afterWrite(item: QueueItem, parts: Uint8Array[], keepRaw: boolean): QueueItem {
  if (!keepRaw) {
    dropRawProto(item.data);
    return item;
  }
  const payload = parts.slice(1, -1);
  if (pendingRecords(item.data)) {
    setRawProto(item.data, payload);
    return item;
  }
  const data: LogsData | TracesData = item.signal === 'logs' ? lazyLogs(payload, item.count) : lazyTraces(payload, item.count);
  setClientInfo(data, clientInfo(item.data));
  return { ...item, data };
}
