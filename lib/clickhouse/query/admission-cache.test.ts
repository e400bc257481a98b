import { afterEach, describe, expect, it, vi } from 'vitest';
import { admitQuery, type AdmissionSession } from './sql-admission.ts';

/**
 * A stand-in for the engine: answers formatQuery (the text unchanged),
 * EXPLAIN AST (a count() over the table the text names) and the catalog
 * query, and counts every statement it is asked to run.
 */
function fakeEngine(engineKey: string): AdmissionSession & { calls: string[] } {
  const calls: string[] = [];
  return {
    engineKey,
    calls,
    async text(sql: string) {
      calls.push(sql.split(/[ (]/)[0]!);
      const fq = /^SELECT formatQuery\('(.*)'\)$/s.exec(sql);
      if (fq) return fq[1]!.replace(/\\'/g, "'") + '\n';
      const ex = /^EXPLAIN AST SELECT count\(\) FROM (\S+)/.exec(sql);
      if (ex) {
        return [
          'SelectWithUnionQuery (children 1)',
          ' ExpressionList (children 1)',
          '  SelectQuery (children 2)',
          '   ExpressionList (children 1)',
          '    Function count (children 1)',
          '     ExpressionList',
          '   TablesInSelectQuery (children 1)',
          '    TablesInSelectQueryElement (children 1)',
          '     TableExpression (children 1)',
          `      TableIdentifier ${ex[1]}`,
          '',
        ].join('\n');
      }
      if (sql.includes('FROM system.databases')) {
        return ['["d","otel","Atomic"]', '["d","system","Atomic"]', '["t","otel","otel_logs"]', '["t","otel","audit_events"]'].join('\n') + '\n';
      }
      throw new Error(`unexpected statement: ${sql}`);
    },
  };
}

afterEach(() => vi.useRealTimers());

describe('admission of a repeated request', () => {
  it('asks the engine once for the same request, again for any other, and never remembers a refusal', async () => {
    const engine = fakeEngine(`engine-${Math.random()}`);
    const q = 'SELECT count() FROM otel.otel_logs';
    const first = await admitQuery(engine, q, 'otel', 'reader');
    const afterFirst = engine.calls.length;
    expect(afterFirst).toBeGreaterThanOrEqual(2);
    expect(await admitQuery(engine, q, 'otel', 'reader')).toEqual(first);
    expect(engine.calls.length).toBe(afterFirst);

    // Another role, database or parameter set is another request.
    await expect(admitQuery(engine, q, 'otel', 'auditor')).rejects.toThrow(/auditor role/);
    await expect(admitQuery(engine, q, 'otel', 'auditor')).rejects.toThrow(/auditor role/);
    const afterRefusals = engine.calls.length;
    expect(afterRefusals).toBeGreaterThan(afterFirst);
    await admitQuery(engine, q, 'otel', 'reader', { params: { unused: '1' } });
    expect(engine.calls.length).toBeGreaterThan(afterRefusals);
  });

  it('decides again once the catalog it was decided on is old', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const engine = fakeEngine(`engine-${Math.random()}`);
    const q = 'SELECT count() FROM otel.audit_events';
    await admitQuery(engine, q, 'otel', 'auditor');
    const n = engine.calls.length;
    vi.setSystemTime(Date.now() + 6_000);
    await admitQuery(engine, q, 'otel', 'auditor');
    expect(engine.calls.length).toBeGreaterThan(n);
  });
});
