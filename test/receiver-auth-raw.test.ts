/**
 * Credentials in odd places, written byte for byte (curl-style HTTP/1.1 and
 * raw HTTP/2 gRPC): only one well-formed credential in the configured header
 * is accepted; every other shape is 401 / UNAUTHENTICATED with the challenge,
 * the presented bytes are never echoed, and the server keeps serving. An
 * unauthenticated request is answered before its body is read, and a large
 * body is cut off rather than read.
 */
import { connect as h2connect, constants as h2 } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { LOGS_EXPORT } from '../receivers/otlp/grpc.ts';
import { sampleLogs, waitFor } from './helpers.ts';
import { rawRequest, startAuthFixture, TOKEN, type AuthFixture } from './receiver-auth-fixture.ts';

let f: AuthFixture;
beforeAll(async () => {
  f = await startAuthFixture();
});
afterAll(() => f.stop());

const body = Buffer.from(encodeLogsProto(sampleLogs(1)));
const ct = 'Content-Type: application/x-protobuf';
const post = (headers: Array<string | Buffer>, path = '/v1/logs') => rawRequest(f.otlp.http!.address, 'POST', path, [ct, ...headers], body);

describe('HTTP: where the credential is', () => {
  const accepted: Array<[string, string[]]> = [
    ['the canonical form', [`Authorization: Bearer ${TOKEN}`]],
    ['a lowercase scheme (RFC 7235: case-insensitive)', [`Authorization: bearer ${TOKEN}`]],
    ['several spaces after the scheme', [`Authorization: Bearer    ${TOKEN}`]],
    ['spaces around the value (HTTP optional whitespace)', [`Authorization:    Bearer ${TOKEN}   `]],
    ['an uppercase header name', [`AUTHORIZATION: Bearer ${TOKEN}`]],
  ];
  for (const [what, headers] of accepted) {
    it(`accepted: ${what}`, async () => {
      expect((await post(headers)).status).toBe(200);
    });
  }

  const refused: Array<[string, Array<string | Buffer>, string?]> = [
    ['no credential', []],
    ['the token in the URL query', [], `/v1/logs?access_token=${TOKEN}`],
    ['the token as a query parameter named authorization', [], `/v1/logs?authorization=Bearer%20${TOKEN}`],
    ['two Authorization headers, both right', [`Authorization: Bearer ${TOKEN}`, `Authorization: Bearer ${TOKEN}`]],
    ['two Authorization headers, wrong then right', ['Authorization: Bearer nope-nope-nope', `Authorization: Bearer ${TOKEN}`]],
    ['Basic with a colon-less value', [`Authorization: Basic ${Buffer.from(TOKEN).toString('base64')}`]],
    ['the token without a scheme', [`Authorization: ${TOKEN}`]],
    ['the scheme glued to the token', [`Authorization: Bearer${TOKEN}`]],
    ['a tab instead of a space', [`Authorization: Bearer\t${TOKEN}`]],
    ['a prefix of the real token', [`Authorization: Bearer ${TOKEN.slice(0, -1)}`]],
    ['the real token and more', [`Authorization: Bearer ${TOKEN}x`]],
    ['the real token twice in one header', [`Authorization: Bearer ${TOKEN}, Bearer ${TOKEN}`]],
    ['another header', [`X-Authorization: Bearer ${TOKEN}`, `Proxy-Authorization: Bearer ${TOKEN}`, `Cookie: token=${TOKEN}`]],
    ['non-UTF-8 bytes', [Buffer.concat([Buffer.from('Authorization: Bearer '), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from(TOKEN)])]],
  ];
  for (const [what, headers, path] of refused) {
    it(`refused: ${what} → 401 with the challenge, nothing echoed`, async () => {
      const r = await post(headers, path);
      expect(r.status).toBe(401);
      expect(r.head).toMatch(/\r\nWWW-Authenticate: Bearer realm="trailhouse"\r\n/i);
      expect(r.head + r.body).not.toContain(TOKEN.slice(0, 8));
      expect(r.head + r.body).not.toContain('nope-nope');
    });
  }

  it('NUL bytes (the token as UTF-16) are refused by the HTTP parser itself: 400, nothing echoed', async () => {
    const r = await post([Buffer.concat([Buffer.from('Authorization: Bearer '), Buffer.from(TOKEN, 'utf16le')])]);
    expect(r.status).toBe(400);
    expect(r.head + r.body.replace(/\0/g, '')).not.toContain(TOKEN.slice(0, 8));
  });

  it('a huge Authorization header is refused without being echoed, and the server keeps serving', async () => {
    const r = await post([`Authorization: Bearer ${'A'.repeat(100_000)}`]);
    expect([401, 431]).toContain(r.status);
    expect(r.head + r.body).not.toContain('AAAAAAAA');
    expect((await post([`Authorization: Bearer ${TOKEN}`])).status).toBe(200);
  });

  it('the refusal is in the request\'s encoding (OTLP: google.rpc.Status JSON with UNAUTHENTICATED)', async () => {
    const r = await rawRequest(f.otlp.http!.address, 'POST', '/v1/logs', ['Content-Type: application/json'], Buffer.from('{}'));
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toEqual({ code: 16, message: 'unauthenticated: no Authorization header' });
  });
  it('the security event keeps the client\'s text bounded and never the query string', async () => {
    const n = f.events.length;
    const r = await post([], `/v1/${'x'.repeat(8000)}?access_token=${TOKEN}`);
    expect(r.status).toBe(401);
    const e = f.events[n]!;
    expect(e.action.length).toBeLessThanOrEqual(256);
    expect(JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(TOKEN.slice(0, 8));
  });
});

describe('an unauthenticated body is not read', () => {
  it('50 MiB declared: 401 arrives before a byte of body is sent, and the connection is cut long before the body is through', async () => {
    const [host, port] = [f.otlp.http!.address.split(':')[0]!, Number(f.otlp.http!.address.split(':')[1])];
    const size = 50 * 1024 * 1024;
    const s = connect(port, host);
    let response = '';
    let closed = false;
    s.on('data', (c: Buffer) => (response += c.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => (closed = true));
    await new Promise((r) => s.once('connect', r));
    s.write(`POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${size}\r\n\r\n`);
    const deadline = Date.now() + 5000;
    while (!response.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(response).toMatch(/^HTTP\/1\.1 401 /);
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let sent = 0;
    while (!closed && sent < size) {
      const ok = s.write(chunk);
      sent += chunk.length;
      if (!ok) await Promise.race([new Promise((r) => s.once('drain', r)), new Promise((r) => s.once('close', r)), new Promise((r) => setTimeout(r, 3000))]);
    }
    s.destroy();
    expect(closed).toBe(true);
    expect(sent).toBeLessThan(size / 2);
    expect(f.sink.logs.filter((d) => d.resourceLogs.length === 0)).toEqual([]);
  }, 20_000);
});

describe('Expect: 100-continue (curl, for large bodies)', () => {
  /** Sends the head only; resolves with what the server answers before any body. */
  async function head(auth: string[]): Promise<{ first: string; s: Socket; text: () => string }> {
    const [host, port] = [f.otlp.http!.address.split(':')[0]!, Number(f.otlp.http!.address.split(':')[1])];
    const s = connect(port, host);
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString('latin1')));
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write(`POST /v1/logs HTTP/1.1\r\nHost: x\r\n${ct}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n${auth.map((h) => `${h}\r\n`).join('')}\r\n`);
    await waitFor(() => text.includes('\r\n\r\n'), 5000, 'an interim or final answer');
    return { first: text.slice(0, text.indexOf('\r\n')), s, text: () => text };
  }

  it('unauthenticated: 401 instead of 100 Continue, so the body is never sent', async () => {
    const r = await head([]);
    expect(r.first).toBe('HTTP/1.1 401 Unauthorized');
    r.s.destroy();
  });

  it('authenticated: 100 Continue, then the body, then 200', async () => {
    const r = await head([`Authorization: Bearer ${TOKEN}`]);
    expect(r.first).toBe('HTTP/1.1 100 Continue');
    r.s.write(body);
    await waitFor(() => /HTTP\/1\.1 200 /.test(r.text()), 5000, 'the 200');
    r.s.destroy();
  });
});

describe('gRPC over raw HTTP/2: what grpc-js clients will not send', () => {
  /** One gRPC call with the given headers; resolves with grpc-status and grpc-message. */
  function h2call(headers: Record<string, string | string[]>, message: Buffer): Promise<{ status: string; message: string }> {
    return new Promise((resolve, reject) => {
      const session = h2connect(`http://${f.otlp.grpc!.address}`);
      session.on('error', reject);
      const req = session.request({ [h2.HTTP2_HEADER_METHOD]: 'POST', [h2.HTTP2_HEADER_PATH]: LOGS_EXPORT, 'content-type': 'application/grpc', te: 'trailers', ...headers });
      let status = '';
      let msg = '';
      const take = (h: Record<string, unknown>) => {
        if (h['grpc-status'] !== undefined) [status, msg] = [String(h['grpc-status']), decodeURIComponent(String(h['grpc-message'] ?? ''))];
      };
      req.on('response', take);
      req.on('trailers', take);
      req.on('error', () => {});
      req.on('close', () => {
        session.close();
        resolve({ status, message: msg });
      });
      req.resume();
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(message.length, 1);
      req.end(Buffer.concat([prefix, message]));
    });
  }

  it('non-UTF-8 bytes, a token in another key, a truncated token: UNAUTHENTICATED, nothing echoed; the right one is accepted', async () => {
    const cases: Array<Record<string, string>> = [
      { authorization: `Bearer \u00ff\u00fe${TOKEN}` },
      { 'x-authorization': `Bearer ${TOKEN}` },
      { authorization: `Bearer ${TOKEN.slice(0, 6)}` },
    ];
    for (const headers of cases) {
      const r = await h2call(headers, body);
      expect(r.status).toBe('16');
      expect(r.message).not.toContain(TOKEN.slice(0, 6));
    }
    const before = f.sink.logPayloads.length;
    expect(await h2call({ authorization: `Bearer ${TOKEN}` }, body)).toEqual({ status: '0', message: 'OK' });
    expect(f.sink.logPayloads.length).toBe(before + 1);
  });

  it('two authorization values (hand-encoded HTTP/2: Node\'s client refuses to send them): judged on the first alone', async () => {
    // Node's HTTP/2 server keeps the first value of a repeated authorization
    // header and drops the rest before grpc-js sees the metadata; so a right
    // token after a wrong one does not get in, and nothing is read twice.
    const call = (values: string[]) =>
      rawH2(f.otlp.grpc!.address, [
        [':method', 'POST'], [':scheme', 'http'], [':path', LOGS_EXPORT], [':authority', 'x'],
        ['content-type', 'application/grpc'], ['te', 'trailers'],
        ...values.map((v): [string, string] => ['authorization', v]),
      ], body);
    const events = f.events.length;
    const before = f.sink.logPayloads.length;
    await call(['Bearer nope-nope-nope', `Bearer ${TOKEN}`]);
    await waitFor(() => f.events.length > events, 5000, 'the refusal event');
    expect(f.events[events]).toMatchObject({ category: 'authentication', outcome: 'failure', reason: 'the token is not accepted', details: { transport: 'grpc', failure: 'invalid' } });
    expect(f.sink.logPayloads.length).toBe(before);
    await call([`Bearer ${TOKEN}`, 'Bearer nope-nope-nope']);
    await waitFor(() => f.sink.logPayloads.length > before, 5000, 'the accepted call');
  });

  it('an unauthenticated 3 MiB message is refused as UNAUTHENTICATED (the interceptor answers on the metadata)', async () => {
    const r = await h2call({}, Buffer.alloc(3 * 1024 * 1024, 1));
    expect(r.status).toBe('16');
  });
});

/**
 * One gRPC call as raw HTTP/2 frames (HPACK literals, no Huffman): the
 * preface, SETTINGS, HEADERS (any header list, repeats included) and one
 * DATA frame; resolves once the server has answered something or closed.
 */
function rawH2(address: string, headers: Array<[string, string]>, message: Buffer): Promise<void> {
  const frame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h.writeUInt8(type, 3);
    h.writeUInt8(flags, 4);
    h.writeUInt32BE(stream, 5);
    return Buffer.concat([h, payload]);
  };
  const str = (v: string) => {
    const b = Buffer.from(v, 'latin1');
    if (b.length > 126) throw new Error('test header too long for a one-byte HPACK length');
    return Buffer.concat([Buffer.from([b.length]), b]);
  };
  const block = Buffer.concat(headers.map(([k, v]) => Buffer.concat([Buffer.from([0x00]), str(k), str(v)])));
  const grpcMsg = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), message]);
  grpcMsg.writeUInt32BE(message.length, 1);
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = connect(port, host, () => {
      s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(0x4, 0, 0, Buffer.alloc(0)), frame(0x1, 0x4, 1, block), frame(0x0, 0x1, 1, grpcMsg)]));
    });
    let got = 0;
    s.on('data', (c: Buffer) => {
      got += c.length;
      if (got > 9 + 6 * 6) setTimeout(() => s.destroy(), 200); // more than the server's SETTINGS: an answer
    });
    s.on('error', () => {});
    s.on('close', () => resolve());
    setTimeout(() => s.destroy(), 3000).unref();
  });
}
