import { describe, expect, it } from 'vitest';
import { checkReadOnly, GuardError, tokenize } from './sql-guard.ts';

function refused(sql: string): GuardError {
  try {
    checkReadOnly(sql);
  } catch (err) {
    expect(err).toBeInstanceOf(GuardError);
    return err as GuardError;
  }
  throw new Error(`expected ${sql} to be refused`);
}

describe('read-only SQL guard', () => {
  it('allows single read statements and reports a FORMAT clause', () => {
    expect(checkReadOnly('SELECT 1')).toEqual({ sql: 'SELECT 1', format: null });
    expect(checkReadOnly('select * from t format JSONEachRow;')).toEqual({ sql: 'select * from t format JSONEachRow', format: 'JSONEachRow' });
    expect(checkReadOnly('  -- a comment\n/* block /* nested */ */ SHOW TABLES ; -- trailing').sql).toBe('  -- a comment\n/* block /* nested */ */ SHOW TABLES');
    for (const sql of ['WITH 1 AS x SELECT x', 'DESCRIBE t', 'DESC t', 'EXISTS TABLE t', 'EXPLAIN SELECT 1', '(SELECT 1) UNION ALL (SELECT 2)', "SELECT format('{}', 1)"]) {
      expect(checkReadOnly(sql).sql).toBe(sql);
    }
  });

  it('never matches inside strings, quoted identifiers or comments', () => {
    expect(checkReadOnly("SELECT 'DROP TABLE x; file(1)' AS s").format).toBeNull();
    expect(checkReadOnly('SELECT "into" FROM t -- ; INSERT').sql).toBe('SELECT "into" FROM t -- ; INSERT');
    expect(checkReadOnly("SELECT $$ ; url( $$ AS h").sql).toBe('SELECT $$ ; url( $$ AS h');
    expect(checkReadOnly("SELECT 'it''s', 'a\\'b'").sql).toBe("SELECT 'it''s', 'a\\'b'");
    expect(checkReadOnly('SELECT URLHierarchy(x), fileSize FROM t').sql).toBe('SELECT URLHierarchy(x), fileSize FROM t');
  });

  it('refuses writes, DDL and session changes as READONLY', () => {
    for (const sql of ['INSERT INTO t VALUES (1)', 'create table t (a Int8) engine=Memory', 'DROP TABLE t', 'ALTER TABLE t DELETE WHERE 1', 'TRUNCATE t', 'SET a = 1', 'USE db', 'SYSTEM FLUSH LOGS', 'KILL QUERY WHERE 1', 'OPTIMIZE TABLE t', 'GRANT SELECT ON *.* TO x']) {
      const e = refused(sql);
      expect(e.code).toBe(164);
      expect(e.type).toBe('READONLY');
      expect(e.unknownStatement).toBe(false);
    }
    expect(refused('SELEC 1').unknownStatement).toBe(true);
  });

  it('refuses several statements, INTO OUTFILE and outside-touching functions', () => {
    expect(refused('SELECT 1; SELECT 2').message).toContain('more than one statement');
    expect(refused("SELECT 1 INTO OUTFILE 'x'").message).toContain('INTO OUTFILE');
    for (const fn of ["file('x')", "url('http://x')", "s3('x')", "s3Cluster('c','x')", "remote('h', t)", "remoteSecure('h', t)", "mysql('h','d','t','u','p')", "postgresql('h')", "executable('x')", "hdfs('x')", "icebergS3('x')", "deltaLake('x')", "azureBlobStorage('x')", "cluster('c', t)", 'input(\'a UInt8\')', "jdbc('x')", "sqlite('x')"]) {
      expect(refused(`SELECT * FROM ${fn}`).message).toContain('function');
    }
    expect(refused('SELECT * FROM FILE (\'x\')').code).toBe(164);
    expect(refused("SELECT * FROM `url`('x')").code).toBe(164);
    expect(refused("WITH (SELECT * FROM file('x')) AS a SELECT a").code).toBe(164);
  });

  it('rejects empty and unterminated input as syntax errors', () => {
    expect(refused('').code).toBe(62);
    expect(refused(' ; ').code).toBe(62);
    expect(refused("SELECT 'open").code).toBe(62);
    expect(refused('SELECT /* open').code).toBe(62);
  });

  it('tokenizes words, punctuation and literals', () => {
    expect(tokenize("SELECT a.b, 'x' FROM `t`").map((t) => t.kind + ':' + t.text)).toEqual(['word:SELECT', 'word:a', 'punct:.', 'word:b', 'punct:,', "string:'x'", 'word:FROM', 'quoted:`t`']);
  });
});
