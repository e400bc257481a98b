/**
 * The `service.name`s of a payload's resources (logs or spans), for
 * source_silent: from the request bytes without decoding records (both
 * Export requests hold their resource_logs / resource_spans as field 1, and
 * those their Resource as field 1), or from the records.
 */
import { emptyResource, getAttr, type Signal } from '../../core/model.ts';
import type { Payload } from '../../core/payload.ts';
import { readResource } from '../../core/otlp/common-proto.ts';
import { Reader } from '../../core/otlp/protowire.ts';
import { str } from '../../lib/mesh/fields.ts';

const FIELD1_LEN = 0x0a;

export function eachServiceName(payload: Payload<Signal>, visit: (service: string) => void): void {
  const c = payload.content;
  if (c.kind === 'records') {
    const list = 'resourceLogs' in c.data ? c.data.resourceLogs : c.data.resourceSpans;
    let last = '';
    for (const r of list) {
      const s = str(getAttr(r.resource.attributes, 'service.name'));
      if (s && s !== last) visit((last = s));
    }
    return;
  }
  for (const part of c.parts) {
    const r = new Reader(part);
    const n = part.length;
    let last = '';
    while (r.pos < n) {
      const tag = r.uint32();
      if (tag !== FIELD1_LEN) {
        r.skip(tag & 7, n);
        continue;
      }
      const end = r.lenEnd(n);
      while (r.pos < end) {
        const t = r.uint32();
        if (t !== FIELD1_LEN) {
          r.skip(t & 7, end);
          continue;
        }
        const res = emptyResource();
        readResource(r, end, res);
        const s = str(getAttr(res.attributes, 'service.name'));
        if (s && s !== last) visit((last = s));
      }
      r.pos = end;
    }
  }
}
