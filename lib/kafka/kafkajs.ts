/**
 * kafkajs, loaded when a Kafka component first needs it (core/lazy-require.ts),
 * with trailhouse's snappy, lz4 and zstd codecs registered (codecs.ts) before
 * any client can produce or fetch a batch.
 */
import type * as Kafkajs from 'kafkajs';
import { lazyRequire } from '../../core/lazy-require.ts';

export const kafkajs = lazyRequire<typeof Kafkajs>('kafkajs');
