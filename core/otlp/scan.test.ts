import { describe, expect, it } from 'vitest';
import { logRecordCount, spanCount } from '../model.ts';
import { Rng, randomLogs, randomTraces, meshAccessLogs, meshSpans } from './fixtures.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto } from './index.ts';
import { OtlpDecodeError } from './errors.ts';
import { scanLogsProto, scanTracesProto } from './scan.ts';
import { Writer } from './protowire.ts';

/** The decoder's verdict: the record count, or 'error'. */
function verdict(f: () => number): number | 'error' {
  try {
    return f();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return 'error';
  }
}

/** Truncations, bit flips, byte overwrites and splices of a valid request. */
function* variants(good: Uint8Array, rng: Rng, n: number): Generator<Uint8Array> {
  for (let i = 0; i < n; i++) {
    const b = Uint8Array.from(good);
    switch (i % 4) {
      case 0: yield b.subarray(0, rng.int(b.length)); break;
      case 1: b[rng.int(b.length)]! ^= 1 << rng.int(8); yield b; break;
      case 2: for (let k = 0; k < 3; k++) b[rng.int(b.length)] = rng.int(256); yield b; break;
      default: {
        const at = rng.int(b.length);
        const ins = Uint8Array.from({ length: 1 + rng.int(4) }, () => rng.int(256));
        yield Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
      }
    }
  }
}

describe('scan: the decoders\' verdict without decoding', () => {
  it('valid requests: the record count', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const logs = randomLogs(seed);
      const traces = randomTraces(seed);
      expect(scanLogsProto(encodeLogsProto(logs))).toBe(logRecordCount(logs));
      expect(scanTracesProto(encodeTracesProto(traces))).toBe(spanCount(traces));
    }
    expect(scanLogsProto(encodeLogsProto(meshAccessLogs(500)))).toBe(500);
    expect(scanTracesProto(encodeTracesProto(meshSpans(300)))).toBe(300);
    expect(scanLogsProto(new Uint8Array(0))).toBe(0);
  });

  it('damaged requests: rejected exactly when the decoder rejects them, the same count otherwise', () => {
    const rng = new Rng(7);
    let rejected = 0;
    let total = 0;
    for (let seed = 1; seed <= 12; seed++) {
      for (const bad of variants(encodeLogsProto(randomLogs(seed)), rng, 250)) {
        const want = verdict(() => logRecordCount(decodeLogsProto(bad)));
        expect(verdict(() => scanLogsProto(bad))).toBe(want);
        if (want === 'error') rejected++;
        total++;
      }
      for (const bad of variants(encodeTracesProto(randomTraces(seed)), rng, 250)) {
        const want = verdict(() => spanCount(decodeTracesProto(bad)));
        expect(verdict(() => scanTracesProto(bad))).toBe(want);
        if (want === 'error') rejected++;
        total++;
      }
    }
    // The variants exercise both verdicts, not only one.
    expect(rejected).toBeGreaterThan(total / 5);
    expect(rejected).toBeLessThan(total);
  });

  it('the checks a plain walk would miss: id lengths, wrong wire types, nesting depth', () => {
    const logWith = (write: (w: Writer) => void) => {
      const w = new Writer();
      const rl = w.startMessage(1);
      const sl = w.startMessage(2);
      const rec = w.startMessage(2);
      write(w);
      w.endMessage(rec);
      w.endMessage(sl);
      w.endMessage(rl);
      return w.finish();
    };
    const cases = [
      logWith((w) => w.bytes(9, Uint8Array.of(1, 2, 3))), // trace id of 3 bytes
      logWith((w) => { w.tag(3, 0); w.uint32(1); }), // severity_text as a varint
      logWith((w) => {
        // body nested deeper than MAX_DEPTH arrays
        const opens: number[] = [];
        opens.push(w.startMessage(5));
        for (let i = 0; i < 70; i++) opens.push(w.startMessage(5), w.startMessage(1));
        for (const at of opens.reverse()) w.endMessage(at);
      }),
    ];
    for (const bytes of cases) {
      expect(verdict(() => logRecordCount(decodeLogsProto(bytes)))).toBe('error');
      expect(verdict(() => scanLogsProto(bytes))).toBe('error');
    }
    const ok = logWith((w) => { w.tag(9, 2); w.uint32(0); }); // an empty trace id is absent, not wrong
    expect(scanLogsProto(ok)).toBe(1);
  });
});
