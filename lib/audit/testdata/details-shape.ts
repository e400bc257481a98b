/**
 * Run by details-shape.test.ts in a node of its own with
 * --allow-natives-syntax: classifies many RBAC denials that differ only in
 * their values and prints how many of their events' details objects share
 * the hidden class (V8 map) of the first with the same keys. Every event of the pipeline's
 * hot path is read key by key (the leaf's body, the Native encoder); a
 * details object with a map of its own makes each of those reads a
 * megamorphic lookup and gives the collector a map, descriptor array and
 * enum cache more to mark per event.
 */
import { emptyScope, type LogsData } from '../../../core/model.ts';
import { encodeLogsProto } from '../../../core/otlp/index.ts';
import { Payload } from '../../../core/payload.ts';
import { ENVOY_RBAC_DENIED, envoyOtel } from '../../../processors/audit/testdata/fixtures.ts';
import { classifyPayload } from '../classify-payload.ts';
import { compileRules } from '../classify.ts';
import { defaultAuditRules } from '../rules.ts';

const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const N = 200;
const records = Array.from({ length: N }, (_, i) => envoyOtel({ ...ENVOY_RBAC_DENIED, x_request_id: `req-${i}`, path: `/admin/users?id=${i}` }));
const data: LogsData = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: 'httpbin' }], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: records }] }] };
const rules = { ...compileRules(defaultAuditRules()), hashBodies: true };
const out: Record<string, { events: number; shared: number }> = {};
for (const [name, payload] of [
  ['records', Payload.logs(data)],
  ['bytes', Payload.ofBytes('logs', [encodeLogsProto(data)], N)],
] as const) {
  payload.dedupToken = `shape-${name}`;
  const firstByKeys = new Map<string, object>();
  let events = 0;
  let shared = 0;
  for (const { event } of classifyPayload(payload, rules)) {
    const keys = Object.keys(event.details).join();
    const first = firstByKeys.get(keys) ?? firstByKeys.set(keys, event.details).get(keys)!;
    events++;
    if (sameMap(first, event.details)) shared++;
  }
  out[name] = { events, shared };
}
console.log(JSON.stringify(out));
