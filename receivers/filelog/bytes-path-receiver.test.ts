/**
 * The filelog receiver with a JSON parser, on a real file: what it hands on
 * is a bytes payload (no records built), and those bytes are exactly the
 * request the records path gives for the file's lines (operators.ts
 * lineRecord, then encodeLogsProto as the otlp exporter encodes records).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Factory } from '../../core/component.ts';
import { emptyScope, type LogRecord } from '../../core/model.ts';
import { decodeLogsProto, encodeLogsProto } from '../../core/otlp/logs-proto.ts';
import { settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer, testHost, waitFor } from '../../test/helpers.ts';
import { filelogFactory, type FilelogConfig } from './index.ts';
import type { FilelogReceiver } from './filelog.ts';
import { compileOperators, lineRecord, type OperatorConfig } from './operators.ts';
import { lineSplitter } from './split.ts';
import { ENVOY, HANDLED, ISTIO_TEXT, OTHERS } from './testdata/json-lines.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The records path's request for `file`'s bytes, read at `observed`. */
function recordsPath(file: Buffer, op: OperatorConfig, path: string, observed: bigint): Buffer {
  const ops = compileOperators([op]);
  const recs: LogRecord[] = [];
  lineSplitter(1024 * 1024).split(file, file.length, true, (s, e) => {
    const r = lineRecord(file.toString('utf8', s, e), observed, 'access.log', path, ops);
    if (r) recs.push(r);
  });
  return Buffer.from(encodeLogsProto({ resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, scopeLogs: [{ scope: emptyScope(), logRecords: recs, schemaUrl: '' }], schemaUrl: '' }] }));
}

describe('filelog with a JSON parser hands on the records path bytes, without records', () => {
  for (const op of [{ type: 'envoy_json_parser', on_error: 'send_quiet' }, { type: 'json_parser', on_error: 'drop' }] as OperatorConfig[]) {
    it(`${op.type} on_error=${op.on_error}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'filelog-bytes-'));
      dirs.push(dir);
      const path = join(dir, 'access.log');
      // One line per line: the corpus lines with a newline inside are left out (the file cuts them).
      const lines = [...Array.from({ length: 200 }, (_, i) => (i % 2 ? ENVOY(i) : ISTIO_TEXT)), ...HANDLED, ...OTHERS].filter((l) => (typeof l === 'string' ? !l.includes('\n') : !l.includes(10)));
      const file = Buffer.concat(lines.flatMap((l) => [typeof l === 'string' ? Buffer.from(l) : l, Buffer.from('\n')]));
      writeFileSync(path, file);
      const sink = new RecordingConsumer();
      const r = filelogFactory.create(
        settingsFor<FilelogConfig>(filelogFactory as Factory, { include: [join(dir, '*.log')], start_at: 'beginning', poll_interval: '20ms', include_file_path: true, operators: [op] }),
        { logs: sink },
      ) as FilelogReceiver;
      await r.start(testHost());
      await waitFor(() => sink.logPayloads.length > 0);
      await r.shutdown();
      expect(sink.logPayloads).toHaveLength(1);
      const p = sink.logPayloads[0]!;
      expect(p.content.kind).toBe('bytes');
      const got = Buffer.from(p.toBytes()[0]!);
      const observed = decodeLogsProto(got).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.observedTimeUnixNano;
      expect(observed).toBeGreaterThan(0n);
      const want = recordsPath(file, op, path, observed);
      expect(got.toString('hex')).toBe(want.toString('hex'));
      expect(p.count).toBe(decodeLogsProto(want).resourceLogs[0]!.scopeLogs[0]!.logRecords.length);
      expect(p.count).toBeGreaterThan(150);
    });
  }
});
