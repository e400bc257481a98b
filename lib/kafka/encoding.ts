/** What a Kafka record's value holds: OTLP protobuf or OTLP JSON (the Collector's `encoding` names). */
export type Encoding = 'otlp_proto' | 'otlp_json';
export const ENCODINGS: readonly Encoding[] = ['otlp_proto', 'otlp_json'];

/** Room for the record batch header and one record's framing and headers around key and value. */
export const RECORD_OVERHEAD = 256;
