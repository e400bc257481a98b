/**
 * `trailhouse <command>`: run a pipeline, validate a config, and the on-call
 * queries. Each command returns its exit code.
 */
import { runCommand, validateCommand } from './commands/run.ts';
export { pipelineThreadMain } from './commands/run.ts';
// For scripts/bench/verify-once.mjs: verify as the bundle runs it.
export { verifyCommand } from './commands/verify.ts';

const USAGE = `usage: trailhouse <command> [options]

commands:
  run [--config FILE]        run the pipeline (default ./pipeline.yaml)
  validate [--config FILE]   check a config and print every problem
  query "SQL" [--endpoint URL] [--format F]
                             run SQL against a ClickHouse HTTP endpoint
                             (default the embedded store's http://127.0.0.1:8123)
  trace <trace-id> [--json]  a trace's span tree, logs and audit events in time order
  audit [--since 1h | --from T --to T] [--category C] [--outcome O]
        [--principal P] [--path GLOB] [--json]
                             audit events, newest first
  verify [--checkpoints PATH]... [--pubkey VKEY|FILE]... [--origin O]
         [--from T --to T] [--json]
                             check the audit trail against its signed
                             checkpoints: a line per checkpoint and per bad
                             row; exit 0 only when everything verifies
  verify --proof FILE [--pubkey VKEY|FILE]
                             check an inclusion proof offline
  verify --report DIR [--pubkey VKEY|FILE]
                             check an evidence report's signature and hashes
  report --from T --to T --out DIR [--gap 15m] [--key-file F | --unsigned]
                             the SOC 2 evidence report for a period:
                             report.html, report.json, report.sig
  proof <origin@index> [--out FILE]
                             an inclusion proof of one audit row
  keys [--rotate | --generate FILE]
                             the audit log's verifier keys (current, retired)
  alerts [--status S] [--detector D] [--since 7d] [--json]
                             the alerts (default: not resolved), newest first
  alerts ack|resolve ID --note "why"
                             triage an alert as the query interface's user
                             (role responder); recorded in audit_events
  retention [--since 30d] [--json]
                             the retention rules in force per table and the
                             deletion ledger per rule and day
  hash-password [--sha256]   read a password on stdin, print the hash for
                             the clickhouse exporter's query_users
  pseudonym <value | -> [--config FILE] [--processor ID]
                             the pseudonym redaction stores for a personal
                             identifier (its pseudonymize key), to search for
  help                       this text
`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  run: async () => runCommand,
  validate: async () => validateCommand,
  query: async () => (await import('./commands/query.ts')).queryCommand,
  trace: async () => (await import('./commands/trace.ts')).traceCommand,
  audit: async () => (await import('./commands/audit.ts')).auditCommand,
  verify: async () => (await import('./commands/verify.ts')).verifyCommand,
  report: async () => (await import('./commands/report.ts')).reportCommand,
  proof: async () => (await import('./commands/proof.ts')).proofCommand,
  keys: async () => (await import('./commands/keys.ts')).keysCommand,
  retention: async () => (await import('./commands/retention.ts')).retentionCommand,
  alerts: async () => (await import('./commands/alerts.ts')).alertsCommand,
  'hash-password': async () => (await import('./commands/hash-password.ts')).hashPasswordCommand,
  pseudonym: async () => (await import('./commands/pseudonym.ts')).pseudonymCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  return (await load())(rest);
}
