/** Seeded mutation fuzz of the Jaeger receiver: thrift over HTTP, compact and binary agent UDP, gRPC. */
import { fuzzSuite } from './ci.ts';

fuzzSuite('jaeger', ['jaeger-thrift-http', 'jaeger-udp-compact', 'jaeger-udp-binary', 'jaeger-grpc'], 400);
