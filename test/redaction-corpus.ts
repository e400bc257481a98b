/**
 * Planted secrets for the redaction tests: texts that each hide one secret
 * (by pattern), keys whose values are secrets (by key), and innocent
 * look-alikes that must be kept. Every secret carries a tag naming the place
 * it was planted in, so a leak found in the store says where it came from.
 */

import { KvList, newLogRecord, newSpan, type KeyValue, type LogsData, type TracesData } from '../core/model.ts';

export interface Plant {
  text: string;
  /** What must not be stored. */
  secret: string;
}

export interface KeyedPlant {
  key: string;
  value: string;
  secret: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Luhn-valid card numbers of the brands detected. */
export const CARDS = [
  '4111111111111111', '4012888888881881', '5555555555554444', '5105105105105100', '2221000000000009',
  '2223003122003222', '378282246310005', '371449635398431', '6011111111111117', '3530111333300000',
];

const spaced = (d: string) => d.replace(/(\d{4})(?=\d)/g, '$1 ');
const dashed = (d: string) => (d.length === 15 ? `${d.slice(0, 4)}-${d.slice(4, 10)}-${d.slice(10)}` : d.replace(/(\d{4})(?=\d)/g, '$1-'));

/** Secrets found by pattern; `tag` is alphanumeric (it becomes part of each secret). */
export function plants(tag: string, cardIndex = 0): Plant[] {
  const t = tag;
  const card = (i: number) => CARDS[(cardIndex + i) % CARDS.length]!;
  const basic = b64(`alice:pw${t}`);
  const jwt = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(`{"sub":"jwt${t}"}`).toString('base64url')}.c2ln${t}`;
  return [
    { text: `Authorization: Bearer bq${t}7x`, secret: `bq${t}7x` },
    { text: `auth=Basic ${basic}`, secret: basic },
    { text: `GET /cb?state=1&access_token=at${t}9&x=1`, secret: `at${t}9` },
    { text: `https://api.example.com/v1/q?API_KEY=ak${t}2`, secret: `ak${t}2` },
    { text: `/login?next=%2Fhome%3Faccess_token%3Den${t}3%26y%3D2`, secret: `en${t}3` },
    { text: `POST /login user=bob&Password=pw${t}q4`, secret: `pw${t}q4` },
    { text: `{"client_secret": "cs ${t} 5"}`, secret: `cs ${t} 5` },
    { text: `forwarded id_token ${jwt} to upstream`, secret: jwt },
    { text: `dsn postgres://app:ui${t}6@db:5432/orders`, secret: `ui${t}6` },
    { text: `charged ${spaced(card(0))} ok`, secret: card(0) },
    { text: `card:${dashed(card(1))}.`, secret: card(1) },
    { text: `pan ${card(2)} for order`, secret: card(2) },
  ];
}

/** Secrets found by their key (case as senders write them). */
export function keyedPlants(tag: string): KeyedPlant[] {
  const t = tag;
  const k = (key: string, value: string): KeyedPlant => ({ key, value, secret: value });
  return [
    k('http.request.header.authorization', `opq${t}a`),
    k('request.headers.authorization', `env${t}b`),
    k('Proxy-Authorization', `prx${t}c`),
    k('Cookie', `sid=ck${t}d`),
    k('set-cookie', `sc${t}e; HttpOnly`),
    k('X-API-Key', `xk${t}f`),
    k('x-auth-token', `xa${t}g`),
    k('password', `pw${t}h`),
    k('client_secret', `cl${t}i`),
    k('refresh_token', `rt${t}j`),
    k('apikey', `ap${t}k`),
    k('private_key', `pk${t}l`),
  ];
}

/** Look-alikes that must be stored unchanged. */
export const INNOCENTS: readonly string[] = [
  'order 4111111111111112 shipped', // 16 digits, Visa prefix, fails Luhn
  'invoice 1234-5678-1234-5678', // fails Luhn
  'please refresh your token and retry',
  'the bearer of this message',
  'Basic plan upgraded',
  'ts 1700000000000000000',
  '/api/v1/items?page=2&sort=asc',
  'spiffe://cluster.local/ns/default/sa/auth',
];

/** Which secrets a text still holds (card numbers also with their spaces and dashes taken out). */
export function leaks(text: string, secrets: readonly string[]): string[] {
  const bare = text.replace(/[ -]/g, '');
  return secrets.filter((s) => text.includes(s) || (/^[0-9]+$/.test(s) && bare.includes(s)));
}

export const scope = (attributes: KeyValue[] = []) => ({ name: 's', version: '', attributes, droppedAttributesCount: 0 });

/** Secrets planted in every place of a log record (`tag` + a letter per place). */
export function plantedLogs(tag: string): { data: LogsData; secrets: string[] } {
  const secrets: string[] = [];
  const texts = (where: string, cardIndex: number) => plants(`${tag}${where}`, cardIndex).map((p) => (secrets.push(p.secret), p.text));
  const attrs = (where: string, cardIndex: number): KeyValue[] => [
    ...texts(where, cardIndex).map((text, i) => ({ key: `note.${i}`, value: text })),
    ...keyedPlants(`${tag}${where}`).map((k) => (secrets.push(k.secret), { key: k.key, value: k.value })),
  ];
  const record = newLogRecord({
    attributes: [
      ...attrs('A', 0),
      { key: 'nested', value: new KvList(attrs('N', 1)) },
      { key: 'list', value: texts('L', 2) },
      { key: 'blob', value: new Uint8Array(Buffer.from(texts('B', 3).join('\n'))) },
      { key: 'card.int', value: 4012888888881881n },
      { key: 'gen_ai.usage.input_tokens', value: 1234n },
      ...INNOCENTS.map((s, i) => ({ key: `innocent.${i}`, value: s })),
    ],
    body: texts('S', 4).join(' | '),
    eventName: texts('E', 5).join(' '),
  });
  const mapBody = newLogRecord({ body: new KvList([{ key: 'msg', value: texts('M', 6).join(' ') }, ...attrs('K', 7)]) });
  const data: LogsData = {
    resourceLogs: [{ resource: { attributes: attrs('R', 8), droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: scope(attrs('C', 9)), schemaUrl: '', logRecords: [record, mapBody] }] }],
  };
  return { data, secrets };
}

export function plantedSpans(tag: string): { data: TracesData; secrets: string[] } {
  const secrets: string[] = [];
  const texts = (where: string, cardIndex: number) => plants(`${tag}${where}`, cardIndex).map((p) => (secrets.push(p.secret), p.text));
  const attrs = (where: string, cardIndex: number): KeyValue[] => [
    ...texts(where, cardIndex).map((text, i) => ({ key: `note.${i}`, value: text })),
    ...keyedPlants(`${tag}${where}`).map((k) => (secrets.push(k.secret), { key: k.key, value: k.value })),
  ];
  const span = newSpan({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    name: texts('N', 0).join(' '),
    attributes: [...attrs('A', 1), ...INNOCENTS.map((s, i) => ({ key: `innocent.${i}`, value: s }))],
    events: [{ timeUnixNano: 1n, name: texts('E', 2).join(' '), attributes: attrs('V', 3), droppedAttributesCount: 0 }],
    links: [{ traceId: '11111111111111111111111111111111', spanId: '2222222222222222', traceState: '', attributes: attrs('K', 4), droppedAttributesCount: 0, flags: 0 }],
    status: { code: 2, message: texts('M', 5).join(' ') },
  });
  const data: TracesData = {
    resourceSpans: [{ resource: { attributes: attrs('R', 6), droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: scope(attrs('C', 7)), schemaUrl: '', spans: [span] }] }],
  };
  return { data, secrets };
}

