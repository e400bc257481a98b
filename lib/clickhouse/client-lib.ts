/** The ClickHouse HTTP client library, loaded on first use (core/lazy-require.ts): a host agent never needs it. */
import type * as ClickhouseClient from '@clickhouse/client';
import { lazyRequire } from '../../core/lazy-require.ts';

export const clickhouseClient = lazyRequire<typeof ClickhouseClient>('@clickhouse/client');
