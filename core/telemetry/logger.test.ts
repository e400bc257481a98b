/**
 * Nothing secret reaches the process's own logs, whoever logs it: messages,
 * fields, nested config sections, errors from client libraries, child
 * loggers' fields; and config errors never echo a password.
 */
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../config/load.ts';
import { ConfigValidationError } from '../config/schema.ts';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const also: unknown[] = [];
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l), also: (_lv, msg, f) => also.push({ msg, ...f }) });
  return { logger, text: () => lines.join('\n') + JSON.stringify(also) };
}

describe('the process log masks secrets', () => {
  it('in messages, errors, fields, nested sections and child loggers; keeps what only looks like one', () => {
    const { logger, text } = capture();
    logger.error('insert failed: POST http://default:chPw9x@clickhouse:8123/?query=INSERT', { error: new Error('401 for Authorization: Bearer tkLog123abc') });
    logger.warn('kafka: SASL authentication failed', { sasl: { mechanism: 'PLAIN', username: 'ingest', password: 'kafkaPw7' }, brokers: ['b1:9093'] });
    logger.info('request refused', { headers: { authorization: 'Basic dXNlcjpodW50ZXIy', 'x-api-key': 'xkLog42', 'content-type': 'application/json' } });
    logger.child({ store: 'server:u@https://u:childPw3@ch:8443' }).info('started');
    logger.warn('bad record', { error: 'attribute card = 4111 1111 1111 1111', value: 'https://x/cb?access_token=atLog5' });
    logger.info('token refresh scheduled', { tokens: 5, username: 'ingest' });
    const out = text();
    for (const secret of ['chPw9x', 'tkLog123abc', 'kafkaPw7', 'dXNlcjpodW50ZXIy', 'xkLog42', 'childPw3', '4111 1111 1111 1111', 'atLog5']) {
      expect([secret, out.includes(secret)]).toEqual([secret, false]);
    }
    for (const kept of ['token refresh scheduled', '"tokens":5', '"username":"ingest"', 'b1:9093', 'application/json', 'clickhouse:8123']) {
      expect([kept, out.includes(kept)]).toEqual([kept, true]);
    }
  });

  it('config errors never echo a secret value, even a wrongly typed one or one inside a URL', () => {
    const cfg = (exporter: string) => `
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
exporters: {${exporter}}
service: {pipelines: {logs: {receivers: [otlp], exporters: [${exporter.split(':')[0]}]}}}
`;
    const errorsOf = (yaml: string) => {
      try {
        loadConfigText(yaml, builtinRegistry(), {});
      } catch (err) {
        if (err instanceof ConfigValidationError) return JSON.stringify(err.errors);
        throw err;
      }
      return '';
    };
    const typed = errorsOf(cfg('clickhouse: {endpoint: "http://ch:8123", password: [pwList9]}'));
    expect(typed).toContain('password');
    expect(typed).not.toContain('pwList9');
    const url = errorsOf(cfg('clickhouse: {endpoint: "tcp://default:urlPw8@ch:9000"}'));
    expect(url).toContain('native protocol');
    expect(url).not.toContain('urlPw8');
  });
});
