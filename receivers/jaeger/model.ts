/**
 * Jaeger's span model, as both wire formats carry it (thrift `jaeger.Batch`
 * from the agent and /api/traces, protobuf `api_v2.Batch` from gRPC),
 * decoded once into this shape so one translator serves every transport.
 * Tags are already typed attributes; ids are 16/32 lowercase hex digits
 * (all zeros when absent), times are ns.
 */
import type { KeyValue } from '../../core/model.ts';

export const RefType = { CHILD_OF: 0, FOLLOWS_FROM: 1 } as const;

export interface JRef {
  traceId: string;
  spanId: string;
  refType: number;
}

export interface JLog {
  timeUnixNano: bigint;
  fields: KeyValue[];
}

export interface JProcess {
  serviceName: string;
  tags: KeyValue[];
}

export interface JSpan {
  traceId: string;
  spanId: string;
  /**
   * The parent as each format's Collector translator infers it: thrift's
   * parentSpanId field, else the first same-trace CHILD_OF (then
   * FOLLOWS_FROM) reference; proto's first same-trace CHILD_OF reference.
   */
  parentSpanId: string;
  operationName: string;
  references: JRef[];
  flags: number;
  startTimeUnixNano: bigint;
  durationNano: bigint;
  tags: KeyValue[];
  logs: JLog[];
  /** A span-level process (proto only) overrides the batch's. */
  process: JProcess | null;
  /** Every field at its zero value: the Collector skips such spans. */
  blank: boolean;
}

export interface JBatch {
  process: JProcess | null;
  spans: JSpan[];
}

export const ZERO_TRACE = '0'.repeat(32);
export const ZERO_SPAN = '0'.repeat(16);
