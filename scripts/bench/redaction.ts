/**
 * The redaction processor's cost per record, in process: mesh access logs
 * (scripts/bench/workload.ts, 12 attributes each) through the rules of
 * examples/gateway.yaml, and through the same walk with no blocked values.
 * CPU time per record, median of 9 rounds over fresh copies.
 *
 *   node --import tsx scripts/bench/redaction.ts
 */
import { cloneLogs, logRecordCount } from '../../core/model.ts';
import { defaultRedactionConfig, type RedactionConfig } from '../../processors/redaction/config.ts';
import { Redactor } from '../../processors/redaction/redaction.ts';
import { makeBatch } from './workload.ts';

const gateway: RedactionConfig = {
  ...defaultRedactionConfig(),
  allow_all_keys: true,
  blocked_key_patterns: ['(?i)(authorization|cookie|x-api-key|password|secret)'],
  blocked_values: ['(?i)(access_token|api_key|token)=[^&\\s]+', '\\b4[0-9]{12}(?:[0-9]{3})?\\b', '\\b5[1-5][0-9]{14}\\b'],
  summary: 'info',
};
const walkOnly: RedactionConfig = { ...gateway, blocked_values: [] };

const batches = Array.from({ length: 20 }, (_, i) => makeBatch(1000, i).logs);
const records = batches.reduce((n, b) => n + logRecordCount(b), 0);

function measure(cfg: RedactionConfig): number {
  const r = new Redactor(cfg);
  const rounds: number[] = [];
  for (let round = 0; round < 11; round++) {
    const copies = batches.map(cloneLogs);
    const t0 = process.cpuUsage();
    for (const c of copies) r.logs(c);
    const t = process.cpuUsage(t0);
    if (round >= 2) rounds.push((t.user + t.system) / records); // the first two warm up
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

console.log(JSON.stringify({
  records_per_round: records,
  attributes_per_record: batches[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.length,
  gateway_rules_us_per_record: +measure(gateway).toFixed(2),
  walk_only_us_per_record: +measure(walkOnly).toFixed(2),
}, null, 2));
