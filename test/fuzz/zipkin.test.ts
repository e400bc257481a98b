/** Seeded mutation fuzz of the Zipkin receiver: v1 JSON and thrift, v2 JSON and protobuf. */
import { fuzzSuite } from './ci.ts';

fuzzSuite('zipkin', { 'zipkin-v1-json': 400, 'zipkin-v1-thrift': 400, 'zipkin-v2-json': 400, 'zipkin-v2-proto': 400 });
