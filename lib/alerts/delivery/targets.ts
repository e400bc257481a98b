/**
 * The delivery targets: each sends a batch of alert versions in its format
 * over HTTP and says how it went. 2xx delivered; 408, 429, 5xx and network
 * errors are worth retrying; any other answer is a refusal (retrying the
 * same body cannot succeed), given up and counted.
 */
import type { Alert } from '../alert.ts';
import { encodeLogsJson } from '../../../core/otlp/logs-json.ts';
import { encodeLogsProto } from '../../../core/otlp/logs-proto.ts';
import type { OtlpTargetConfig, TargetConfig, TargetName } from '../options.ts';
import { alertmanagerAlert, otlpLogs, webhookDocument } from './formats.ts';

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface Target {
  readonly name: TargetName;
  /** Alert versions per request at most. */
  readonly maxBatch: number;
  send(alerts: readonly Alert[]): Promise<void>;
}

async function post(url: string, c: TargetConfig, contentType: string, body: string | Uint8Array): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { ...c.headers, 'content-type': contentType }, body: typeof body === 'string' ? body : new Uint8Array(body), signal: AbortSignal.timeout(c.timeout) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new DeliveryError(`${url}: ${cause ?? (err as Error).message}`, true);
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  throw new DeliveryError(`${url}: HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, retryable);
}

export function alertmanagerTarget(c: TargetConfig, externalUrl: string): Target {
  const url = `${c.endpoint.replace(/\/+$/, '')}/api/v2/alerts`;
  return {
    name: 'alertmanager',
    maxBatch: 100,
    send: (alerts) => post(url, c, 'application/json', JSON.stringify(alerts.map((a) => alertmanagerAlert(a, externalUrl)))),
  };
}

export function webhookTarget(c: TargetConfig, externalUrl: string): Target {
  return {
    name: 'webhook',
    maxBatch: 100,
    send: (alerts) => post(c.endpoint, c, 'application/json', JSON.stringify(webhookDocument(alerts, externalUrl))),
  };
}

export function otlpTarget(c: OtlpTargetConfig, externalUrl: string): Target {
  return {
    name: 'otlp',
    maxBatch: 100,
    send: (alerts) => {
      const data = otlpLogs(alerts, externalUrl);
      return c.encoding === 'json' ? post(c.endpoint, c, 'application/json', encodeLogsJson(data)) : post(c.endpoint, c, 'application/x-protobuf', encodeLogsProto(data));
    },
  };
}
