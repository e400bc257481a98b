/** Seeded mutation fuzz of the OTLP receiver: HTTP protobuf and JSON, gRPC; logs and traces. */
import { fuzzSuite } from './ci.ts';

// JSON is cheap and its decoder has the most hand-written paths: more cases there.
fuzzSuite('otlp', {
  'otlp-http-proto-logs': 300,
  'otlp-http-proto-traces': 300,
  'otlp-http-json-logs': 800,
  'otlp-http-json-traces': 800,
  'otlp-grpc-logs': 300,
  'otlp-grpc-traces': 300,
});
