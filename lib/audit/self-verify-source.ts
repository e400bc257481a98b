/**
 * The pipeline's own store as verify's source (verify-store.ts
 * VerifySource), for the self-check (self-verify.ts): the embedded engine
 * through the query interface's read-only sessions (readonly=1, one thread,
 * its time and memory limits), or a ClickHouse server through a client of
 * its own whose default database is the store's.
 *
 * Its reads run one at a time (a page's rows and leaf records one after the
 * other): a background check holds at most one of the read-only pool's
 * slots, leaving the others to the people querying the store.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseClient } from '../clickhouse/client-lib.ts';
import type { Store, StoreOptions } from '../clickhouse/store.ts';
import { sqlString } from './log-schema.ts';
import type { VerifySource } from './verify-store.ts';

const PARAM = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9]+)\}/g;

/**
 * `{name:Type}` placeholders as literals: a String quoted (sqlString), an
 * integer checked to be one. Anything else is refused: the queries of
 * verify-store.ts use nothing else.
 */
export function bindLiterals(sql: string, params: Record<string, string>): string {
  return sql.replace(PARAM, (_, name: string, type: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`no value for the query parameter ${name}`);
    if (type === 'String') return sqlString(v);
    if (/^U?Int(8|16|32|64)$/.test(type)) {
      if (!/^-?\d{1,20}$/.test(v)) throw new Error(`query parameter ${name}: not an integer: ${JSON.stringify(v.slice(0, 40))}`);
      return v;
    }
    throw new Error(`query parameter ${name}: type ${type} is not bound here`);
  });
}

export interface OwnSource extends VerifySource {
  close(): Promise<void>;
}

export function ownStoreSource(store: Store, database: string, server?: StoreOptions): OwnSource {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = chain.then(f, f);
    chain = p.catch(() => undefined);
    return p;
  };
  let client: ClickHouseClient | undefined;
  const pool = store.readonly;
  const run = async (sql: string, params: Record<string, string>, format: string): Promise<Buffer> => {
    if (pool) {
      const bound = bindLiterals(sql, params);
      return pool.withSession(async (s) => {
        await s.use(database);
        return Buffer.from((await s.run(bound, format)).bytes());
      });
    }
    if (!server?.endpoint) throw new Error('the self-check needs the store\'s endpoint on a ClickHouse server');
    client ??= clickhouseClient().createClient({ url: server.endpoint, username: server.username || 'default', password: server.password, database, request_timeout: 120_000, log: { level: clickhouseClient().ClickHouseLogLevel.OFF } });
    const rs = await client.exec({ query: `${sql}\nFORMAT ${format}`, query_params: params });
    const chunks: Buffer[] = [];
    for await (const c of rs.stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  return {
    database,
    bytes: (sql, params, format) => serial(() => run(sql, params, format)),
    close: async () => {
      await client?.close();
      client = undefined;
    },
  };
}
