/**
 * The filter and transform processors' cost per record, in process: mesh
 * access logs (scripts/bench/workload.ts, 12 attributes each) through
 *  - filter: the two log conditions of processors/filter/README.md's example
 *    (a severity bound and an IsMatch on the body) plus an attribute test;
 *  - transform: three statements (a replace_pattern on url.path, a set from
 *    the resource, a set with a where clause).
 * CPU time per record, median of 9 rounds over fresh copies (the copies'
 * garbage is collected inside the timed window: upper bounds).
 *
 *   node --import tsx scripts/bench/ottl.ts
 */
import type { Factory, LogsConsumer, ProcessorFactory } from '../../core/component.ts';
import { cloneLogs, logRecordCount, type LogsData } from '../../core/model.ts';
import { filterFactory } from '../../processors/filter/index.ts';
import { transformFactory } from '../../processors/transform/index.ts';
import { settingsFor } from '../../test/component-config.ts';
import { makeBatch } from './workload.ts';
import { Payload } from '../../core/payload.ts';

const batches = Array.from({ length: 20 }, (_, i) => makeBatch(1000, i).logs);
const records = batches.reduce((n, b) => n + logRecordCount(b), 0);
const sink: LogsConsumer = { consumeLogs: async () => {} };

async function measure(factory: ProcessorFactory<unknown>, user: unknown): Promise<number> {
  const p = factory.create(settingsFor(factory as Factory, user), { logs: sink }) as unknown as LogsConsumer;
  const rounds: number[] = [];
  for (let round = 0; round < 11; round++) {
    const copies: LogsData[] = batches.map(cloneLogs);
    const t0 = process.cpuUsage();
    for (const c of copies) await p.consumeLogs(Payload.logs(c));
    const t = process.cpuUsage(t0);
    if (round >= 2) rounds.push((t.user + t.system) / records); // the first two warm up
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

const filter = {
  logs: {
    log_record: [
      'severity_number < SEVERITY_NUMBER_INFO and severity_number != SEVERITY_NUMBER_UNSPECIFIED',
      'IsMatch(body, "^GET /healthz")',
      'attributes["url.path"] == "/healthz" and attributes["http.response.status_code"] == 200',
    ],
  },
};
const transform = {
  log_statements: [
    {
      context: 'log',
      statements: [
        'replace_pattern(attributes["url.path"], "/\\\\d+", "/{id}")',
        'set(attributes["namespace"], resource.attributes["k8s.namespace.name"])',
        'set(attributes["error"], true) where attributes["http.response.status_code"] >= 500',
      ],
    },
  ],
};

console.log(
  JSON.stringify(
    {
      records_per_round: records,
      attributes_per_record: batches[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.length,
      filter_3_conditions_us_per_record: +(await measure(filterFactory as ProcessorFactory<unknown>, filter)).toFixed(2),
      transform_3_statements_us_per_record: +(await measure(transformFactory as ProcessorFactory<unknown>, transform)).toFixed(2),
    },
    null,
    2,
  ),
);
