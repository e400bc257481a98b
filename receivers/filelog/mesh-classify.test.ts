/**
 * An Envoy JSON access-log line and an Istio default text line, tailed by
 * filelog with the ready parsers, are classified by audit exactly as the
 * same log arriving over OTLP (Envoy's OpenTelemetry access logger: fields
 * as attributes; Istio's text provider: the line as the body).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Factory } from '../../core/component.ts';
import type { LogRecord } from '../../core/model.ts';
import { settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer, testHost, waitFor } from '../../test/helpers.ts';
import { classifyRecord, compileRules } from '../../processors/audit/classify.ts';
import { defaultAuditRules } from '../../processors/audit/config.ts';
import { ENVOY_RBAC_DENIED, ISTIO_LINES, envoyOtel, istioText } from '../../processors/audit/testdata/fixtures.ts';
import { filelogFactory, type FilelogConfig } from './index.ts';
import type { FilelogReceiver } from './filelog.ts';

const rules = compileRules(defaultAuditRules());
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function tailed(lines: string[], operators: unknown[]): Promise<LogRecord[]> {
  const dir = mkdtempSync(join(tmpdir(), 'filelog-mesh-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'access.log'), lines.map((l) => l + '\n').join(''));
  const sink = new RecordingConsumer();
  const r = filelogFactory.create(settingsFor<FilelogConfig>(filelogFactory as Factory, { include: [join(dir, '*.log')], start_at: 'beginning', poll_interval: '20ms', operators }), { logs: sink }) as FilelogReceiver;
  await r.start(testHost());
  await waitFor(() => sink.logRecords.length === lines.length);
  await r.shutdown();
  return sink.logRecords;
}

describe('mesh access logs tailed by filelog are classified as over OTLP', () => {
  it('Envoy JSON (envoy_json_parser) = Envoy OTel access logger record', async () => {
    const [rec] = await tailed([JSON.stringify(ENVOY_RBAC_DENIED)], [{ type: 'envoy_json_parser' }]);
    const overOtlp = classifyRecord(envoyOtel(ENVOY_RBAC_DENIED, false), [], rules);
    expect(overOtlp.length).toBeGreaterThan(0);
    expect(classifyRecord(rec!, [], rules)).toEqual(overOtlp);
  });

  it('Envoy JSON with the plain json_parser: the same events (time from the file read, not START_TIME)', async () => {
    const [rec] = await tailed([JSON.stringify(ENVOY_RBAC_DENIED)], [{ type: 'json_parser' }]);
    const strip = (evs: ReturnType<typeof classifyRecord>) => evs.map(({ time: _t, ...e }) => e);
    expect(strip(classifyRecord(rec!, [], rules))).toEqual(strip(classifyRecord(envoyOtel(ENVOY_RBAC_DENIED, false), [], rules)));
  });

  it('Istio text lines (istio_text_parser, or none at all) = the text provider record', async () => {
    const names = Object.keys(ISTIO_LINES) as Array<keyof typeof ISTIO_LINES>;
    const withParser = await tailed(names.map((n) => ISTIO_LINES[n]), [{ type: 'istio_text_parser' }]);
    const without = await tailed(names.map((n) => ISTIO_LINES[n]), []);
    let events = 0;
    names.forEach((n, i) => {
      const overOtlp = classifyRecord(istioText(ISTIO_LINES[n]), [], rules);
      events += overOtlp.length;
      // The OTLP record has no time of its own: both take START_TIME from the line.
      expect(classifyRecord(withParser[i]!, [], rules), n).toEqual(overOtlp);
      const strip = (evs: typeof overOtlp) => evs.map(({ time: _t, ...e }) => e);
      expect(strip(classifyRecord(without[i]!, [], rules)), n).toEqual(strip(overOtlp));
    });
    expect(events).toBeGreaterThan(5);
  });
});
