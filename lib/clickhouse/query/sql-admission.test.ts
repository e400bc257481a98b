import { describe, expect, it } from 'vitest';
import { parseAstDump } from './sql-ast.ts';
import { checkIdentifiers, substituteParams } from './sql-canonical.ts';
import { admitTree, type Catalog } from './sql-rules.ts';

const catalog: Catalog = {
  databases: new Set(['otel']),
  tables: new Set(['otel.otel_logs', 'otel.audit_events', 'otel.trace_summary']),
  auditTables: new Set(['audit_events']),
  systemColumns: new Map([['tables', ['database', 'name', 'data_paths']], ['databases', ['name', 'data_path']]]),
};

const tree = (lines: string[]) => parseAstDump(lines.join('\n') + '\n');
const select = (from: string) => tree([
  'SelectWithUnionQuery (children 1)',
  ' ExpressionList (children 1)',
  '  SelectQuery (children 2)',
  '   ExpressionList (children 1)',
  '    Asterisk',
  '   TablesInSelectQuery (children 1)',
  '    TablesInSelectQueryElement (children 1)',
  '     TableExpression (children 1)',
  `      ${from}`,
]);

describe('parseAstDump', () => {
  it('builds the tree from indentation, with names and aliases', () => {
    const t = select('TableIdentifier otel.otel_logs (alias l)');
    const id = t.children[0]!.children[0]!.children[1]!.children[0]!.children[0]!.children[0]!;
    expect(id).toEqual({ type: 'TableIdentifier', text: 'otel.otel_logs', alias: 'l', children: [] });
  });

  it('refuses lines that do not fit: a skipped level, a second root, odd characters', () => {
    expect(() => parseAstDump('SelectWithUnionQuery\n   ExpressionList\n')).toThrow(/cannot read/);
    expect(() => parseAstDump('SelectWithUnionQuery\nSelectWithUnionQuery\n')).toThrow(/cannot read/);
    expect(() => parseAstDump('SelectWithUnionQuery\n\tExpressionList\n')).toThrow(/cannot read/);
  });
});

describe('admitTree', () => {
  it('allows store tables for the reader; the auditor reads audit tables only', () => {
    expect(admitTree(select('TableIdentifier otel.otel_logs'), 'otel', 'reader', catalog)).toEqual({ format: null, streamable: true });
    expect(admitTree(select('TableIdentifier audit_events'), 'otel', 'auditor', catalog)).toEqual({ format: null, streamable: true });
    expect(() => admitTree(select('TableIdentifier otel.otel_logs'), 'otel', 'auditor', catalog)).toThrow(/auditor role/);
    expect(() => admitTree(select('TableIdentifier trace_summary'), 'otel', 'auditor', catalog)).toThrow(/auditor role/);
  });

  it('refuses unknown node types, table functions, other databases and * over path columns', () => {
    expect(() => admitTree(select('Function file (children 1)'), 'otel', 'reader', catalog)).toThrow(/table function file/);
    expect(() => admitTree(select('TableIdentifier default.x'), 'otel', 'reader', catalog)).toThrow(/outside the store/);
    expect(() => admitTree(select('TableIdentifier system.processes'), 'otel', 'reader', catalog)).toThrow(/not readable/);
    expect(() => admitTree(select('TableIdentifier system.tables'), 'otel', 'reader', catalog)).toThrow(/\* or COLUMNS/);
    expect(() => admitTree(select('SomeFutureNode'), 'otel', 'reader', catalog)).toThrow(/SomeFutureNode/);
    expect(() => admitTree(tree(['InsertQuery (children 1)', ' Identifier x']), 'otel', 'reader', catalog)).toThrow(/INSERT/);
  });
});

describe('canonical text', () => {
  it('substitutes parameters as literals, skipping strings and map literals', () => {
    expect(substituteParams("SELECT {a:String}, '{a:String}', {'k': 1}, {n:Array(UInt8)}", { a: "it's \\t", n: '[1]' }))
      .toBe("SELECT CAST('it\\'s \t', 'String'), '{a:String}', {'k': 1}, CAST('[1]', 'Array(UInt8)')");
    expect(substituteParams('SELECT * FROM {t:Identifier}', { t: 'a`b' })).toBe('SELECT * FROM `a\\`b`');
    expect(substituteParams('SELECT * FROM {t:Identifier}', { t: 'otel.audit_events' })).toBe('SELECT * FROM `otel`.`audit_events`');
    expect(substituteParams('SELECT 1', {})).toBeNull();
    expect(() => substituteParams('SELECT {x:String}', {})).toThrow(/Substitution `x` is not set/);
    expect(() => substituteParams('SELECT {constructor:String}', {})).toThrow(/not set/);
  });

  it('refuses identifiers with control characters, raw or escaped', () => {
    expect(() => checkIdentifiers('SELECT 1 AS `a\nb`')).toThrow(/control characters/);
    expect(() => checkIdentifiers('SELECT 1 AS `a\\nb`')).toThrow(/control characters/);
    expect(() => checkIdentifiers("SELECT 'a\nb' AS `ok`")).not.toThrow();
  });
});
