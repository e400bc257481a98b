/**
 * What a queued item's payload becomes once its frame is written
 * (core/payload.ts).
 */
import { Payload } from '../../core/payload.ts';
import type { QueueItem } from '../../core/queue/memory-queue.ts';

/**
 * The item as its consumer gets it. Without `keepRaw` the received bytes
 * need not stay in memory beside the records (they are on disk). With it,
 * the consumer is handed exactly the bytes written (`parts`: the frame's
 * pieces, record.ts encodeRecordParts), records built only if read
 * (Payload.records), as a replay would hand them. The records an upstream
 * stage decoded or built (a Zipkin or Jaeger receiver's translation) can
 * then be collected once the sender is answered, instead of living on,
 * promoted, for as long as the item is in flight (behind the spool, the
 * whole correlation window).
 */
export function afterWrite(item: QueueItem, parts: Uint8Array[], keepRaw: boolean): QueueItem {
  if (!keepRaw) {
    item.data.dropBytes();
    return item;
  }
  const data = Payload.ofBytes(item.signal, parts.slice(1, -1), item.count, item.data.client);
  data.dedupToken = item.data.dedupToken;
  return { ...item, data };
}
