/**
 * The fuzzer itself: a case is a pure function of its seed (so a printed case
 * seed replays exactly), and the format-aware mutators reach their targets.
 */
import { describe, expect, it } from 'vitest';
import { makeInput } from './harness.ts';
import { Prng, caseSeed } from './prng.ts';
import type { Format } from './rig.ts';
import { deepAnyValue, mutateProto } from './mutate-proto.ts';
import { mutateJson } from './mutate-json.ts';
import { mutateThrift } from './mutate-thrift.ts';
import { jaegerSeeds, otlpSeeds, zipkinSeeds } from './seeds.ts';
import { decodeLogsProto } from '../../core/otlp/index.ts';

const fake = (seeds: Buffer[], aware: Format['aware']) => ({ seeds, aware }) as unknown as Format;
const formats = {
  proto: fake(otlpSeeds.tracesProto(), (r, s, _o, l) => mutateProto(r, s, l)),
  json: fake(zipkinSeeds.v2Json(), (r, s, o, l) => mutateJson(r, s, o, l)),
  thrift: fake(jaegerSeeds.udpCompact(), (r, s, _o, l) => mutateThrift(r, s, 'compact', 'message', l)),
};

describe('fuzzer', () => {
  it('builds the same input from the same case seed, and different ones from different seeds', () => {
    for (const fmt of Object.values(formats)) {
      const inputs = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const seed = caseSeed(42, i);
        const a = makeInput(fmt, seed);
        const b = makeInput(fmt, seed);
        expect(b.input.equals(a.input)).toBe(true);
        expect(b.log).toEqual(a.log);
        inputs.add(a.input.toString('hex'));
      }
      expect(inputs.size).toBeGreaterThan(40);
    }
  });

  it('uses every mutation family over a few hundred cases', () => {
    const seen = new Set<string>();
    for (const fmt of Object.values(formats)) {
      for (let i = 0; i < 400; i++) for (const m of makeInput(fmt, caseSeed(7, i)).log) seen.add(m.split('.')[0]!);
    }
    expect([...seen].sort()).toEqual(expect.arrayContaining(['bitflip', 'json', 'proto', 'splice', 'thrift', 'truncate']));
  });

  it('nests an AnyValue past the decoder\'s depth limit, which it refuses', () => {
    const value = deepAnyValue(65, false);
    const len = (n: number) => (n < 128 ? Buffer.from([n]) : Buffer.from([(n & 0x7f) | 0x80, n >> 7]));
    const keyValue = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12]), len(value.length), value]);
    const record = Buffer.concat([Buffer.from([0x32]), len(keyValue.length), keyValue]); // LogRecord.attributes = 6
    const scope = Buffer.concat([Buffer.from([0x12]), len(record.length), record]); // ScopeLogs.log_records = 2
    const resource = Buffer.concat([Buffer.from([0x12]), len(scope.length), scope]); // ResourceLogs.scope_logs = 2
    const request = Buffer.concat([Buffer.from([0x0a]), len(resource.length), resource]);
    expect(() => decodeLogsProto(request)).toThrow(/deeper than/);
    // One level less decodes: the nesting is what is refused, not the framing.
    const ok = deepAnyValue(60, false);
    const kv2 = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12]), len(ok.length), ok]);
    const rec2 = Buffer.concat([Buffer.from([0x32]), len(kv2.length), kv2]);
    const sc2 = Buffer.concat([Buffer.from([0x12]), len(rec2.length), rec2]);
    const rs2 = Buffer.concat([Buffer.from([0x12]), len(sc2.length), sc2]);
    expect(decodeLogsProto(Buffer.concat([Buffer.from([0x0a]), len(rs2.length), rs2])).resourceLogs).toHaveLength(1);
  });

  it('the PRNG is deterministic and spreads', () => {
    const a = new Prng(1);
    const b = new Prng(1);
    const xs = Array.from({ length: 1000 }, () => a.int(10));
    expect(Array.from({ length: 1000 }, () => b.int(10))).toEqual(xs);
    for (let d = 0; d < 10; d++) expect(xs.filter((x) => x === d).length).toBeGreaterThan(60);
  });
});
