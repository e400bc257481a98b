/**
 * Correlate's rules over decoded records: indexing spans, enriching and
 * linking log records in place, the per-trace summary contributions. The
 * processor runs them over the bytes only (peek.ts; a payload that comes as
 * records is encoded when it enters the window), so this reading lives here,
 * as the reference the bytes path is tested against (peek.test.ts) and whose
 * rules enrich.test.ts states.
 */
import { getAttr, setAttr, SpanKind, type LogRecord, type LogsData, type TracesData } from '../../../core/model.ts';
import { readAccess, str } from '../../../lib/mesh/fields.ts';
import type { AttributeMap } from '../../../lib/mesh/attributes.ts';
import { addLogId, addSpanId, contextAttributes, logKeyBody, logKeyEnd, logKeyHead, summaryPart, type EnrichCounts, type SummaryPart } from '../enrich.ts';
import type { SpanContext, TraceEntry, TraceIndex } from '../trace-index.ts';

/** Indexes a traces payload; returns the trace entries it touched. */
export function indexTraces(data: TracesData, index: TraceIndex, requestIdAttrs: readonly string[], now: number): Set<TraceEntry> {
  const touched = new Set<TraceEntry>();
  let lastTrace = '';
  let entry: TraceEntry | undefined;
  for (const rs of data.resourceSpans) {
    const service = str(getAttr(rs.resource.attributes, 'service.name'));
    for (const ss of rs.scopeSpans) {
      for (const sp of ss.spans) {
        if (!sp.traceId) continue;
        if (sp.traceId !== lastTrace || !entry) {
          entry = index.touch(sp.traceId, now);
          lastTrace = sp.traceId;
          touched.add(entry);
        }
        let rid = '';
        for (const a of requestIdAttrs) if ((rid = str(getAttr(sp.attributes, a)))) break;
        index.addSpan(
          entry,
          {
            traceId: sp.traceId,
            spanId: sp.spanId,
            name: sp.name,
            kind: sp.kind,
            service,
            status: sp.status.code,
            startUs: Number(sp.startTimeUnixNano / 1000n),
            durationNs: sp.endTimeUnixNano > sp.startTimeUnixNano ? Number(sp.endTimeUnixNano - sp.startTimeUnixNano) : 0,
          },
          rid,
        );
      }
    }
  }
  return touched;
}

/** Indexes the trace ids a logs payload already carries. */
export function indexLogs(data: LogsData, index: TraceIndex, now: number): Set<TraceEntry> {
  const touched = new Set<TraceEntry>();
  let last = '';
  for (const rl of data.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        if (!r.traceId || r.traceId === last) continue;
        last = r.traceId;
        touched.add(index.touch(r.traceId, now));
      }
    }
  }
  return touched;
}

function setContext(r: LogRecord, span: SpanContext, linked = false): void {
  for (const kv of contextAttributes(span, linked)) setAttr(r.attributes, kv.key, kv.value);
}

/**
 * Enriches records whose span is known, and links records without a trace id
 * through their request id (attribute or Istio text line), in place.
 */
export function enrichLogs(data: LogsData, index: TraceIndex, fields: AttributeMap, counts: EnrichCounts): void {
  for (const rl of data.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        if (r.traceId) {
          const span = r.spanId ? index.span(r.traceId, r.spanId) : undefined;
          if (span) {
            setContext(r, span);
            counts.enriched++;
          }
          continue;
        }
        const view = readAccess(r, fields);
        const rid = view?.fields.request_id;
        if (!rid) continue;
        const cluster = view.fields.upstream_cluster ?? '';
        const prefer = cluster.startsWith('outbound|') ? SpanKind.CLIENT : SpanKind.SERVER;
        const link = index.byRequest(rid, prefer);
        if (!link) continue;
        r.traceId = link.traceId;
        r.spanId = link.span.spanId;
        setContext(r, link.span, true);
        counts.linked++;
      }
    }
  }
}

export function summarizeTraces(data: TracesData, parts: Map<string, SummaryPart>): void {
  for (const rs of data.resourceSpans) {
    const service = str(getAttr(rs.resource.attributes, 'service.name'));
    for (const ss of rs.scopeSpans) {
      for (const sp of ss.spans) {
        if (!sp.traceId) continue;
        const p = summaryPart(parts, sp.traceId);
        addSpanId(p, sp.spanId, sp.status.code === 2, service);
        if (sp.startTimeUnixNano && (!p.startNs || sp.startTimeUnixNano < p.startNs)) p.startNs = sp.startTimeUnixNano;
        if (sp.endTimeUnixNano > p.endNs) p.endNs = sp.endTimeUnixNano;
        if (!sp.parentSpanId && (!p.rootName || sp.startTimeUnixNano < p.rootStartNs)) {
          p.rootService = service;
          p.rootName = sp.name;
          p.rootStartNs = sp.startTimeUnixNano;
        }
      }
    }
  }
}

export function logKey(r: LogRecord): number {
  const t = r.timeUnixNano || r.observedTimeUnixNano;
  let h = logKeyHead(Number(BigInt.asUintN(32, t)), Number(BigInt.asUintN(32, t >> 32n)), r.spanId);
  const body = typeof r.body === 'string' ? r.body : '';
  h = logKeyBody(h, body);
  return logKeyEnd(h, body.length, r.attributes.length);
}

export function summarizeLogs(data: LogsData, parts: Map<string, SummaryPart>): void {
  for (const rl of data.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) if (r.traceId) addLogId(summaryPart(parts, r.traceId), logKey(r));
    }
  }
}
