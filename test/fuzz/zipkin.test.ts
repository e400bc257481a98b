/** Seeded mutation fuzz of the Zipkin receiver: v1 JSON and thrift, v2 JSON and protobuf. */
import { fuzzSuite } from './ci.ts';

fuzzSuite('zipkin', ['zipkin-v1-json', 'zipkin-v1-thrift', 'zipkin-v2-json', 'zipkin-v2-proto'], 400);
