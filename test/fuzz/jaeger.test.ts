/** Seeded mutation fuzz of the Jaeger receiver: thrift over HTTP, compact and binary agent UDP, gRPC. */
import { fuzzSuite } from './ci.ts';

fuzzSuite('jaeger', { 'jaeger-thrift-http': 400, 'jaeger-udp-compact': 400, 'jaeger-udp-binary': 400, 'jaeger-grpc': 400 });
