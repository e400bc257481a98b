/** Seeded mutation fuzz of the OTLP receiver: HTTP protobuf and JSON, gRPC; logs and traces. */
import { fuzzSuite } from './ci.ts';

fuzzSuite('otlp', ['otlp-http-proto-logs', 'otlp-http-proto-traces', 'otlp-http-json-logs', 'otlp-http-json-traces', 'otlp-grpc-logs', 'otlp-grpc-traces'], 300);
