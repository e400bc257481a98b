import { describe, expect, it } from 'vitest';
import { CARDS, INNOCENTS, keyedPlants, plants } from '../test/redaction-corpus.ts';
import { cardBrand, isCardInteger, isCardNumber, isSecretKey, luhn, maskCards, maskCredentials, scrubText, type Masker } from './secrets.ts';

const masker = (): Masker => ({ mask: () => '****', count: 0 });
const scrub = (s: string) => {
  const m = masker();
  return maskCards(maskCredentials(s, m), m);
};

describe('built-in detectors', () => {
  it('masks every planted secret and keeps the text around it', () => {
    for (const p of plants('T1')) {
      const out = scrub(p.text);
      expect([p.text, out.includes(p.secret)]).toEqual([p.text, false]);
      expect(out).toContain('****');
    }
    expect(scrub('Authorization: Bearer bqT17x')).toBe('Authorization: Bearer ****');
    expect(scrub('GET /cb?state=1&access_token=atT19&x=1')).toBe('GET /cb?state=1&access_token=****&x=1');
    expect(scrub('/login?next=%2Fhome%3Faccess_token%3Den1%26y%3D2')).toBe('/login?next=%2Fhome%3Faccess_token%3D****%26y%3D2');
    expect(scrub('{"client_secret": "a b c", "user":"bob"}')).toBe('{"client_secret": "****", "user":"bob"}');
    expect(scrub('charged 4111 1111 1111 1111 ok')).toBe('charged **** ok');
    expect(scrub('dsn postgres://app:hunter2@db:5432/x')).toBe('dsn postgres://app:****@db:5432/x');
  });

  it('keeps innocent look-alikes', () => {
    for (const s of INNOCENTS) expect(scrub(s)).toBe(s);
    expect(luhn('1234567812345678')).toBe(false);
  });

  it('odd cases: any case, double URL-encoding, JSON quoting, a card among other digit groups, PEM keys', () => {
    expect(scrub('ACCESS_TOKEN=abc&Api-Key=def')).toBe('ACCESS_TOKEN=****&Api-Key=****');
    expect(scrub('x?token%253Dabc%2526y=1')).toBe('x?token%253D****%2526y=1');
    expect(scrub("{'password': 'p w'}")).toBe("{'password': '****'}");
    expect(scrub('authorization: BEARER AbCdEf123')).toBe('authorization: BEARER ****');
    expect(scrub('ids 12 4111111111111111 7')).toBe('ids 12 **** 7');
    expect(scrub('amex 3782-822463-10005 mc 2221 0000 0000 0009')).toBe('amex **** mc ****');
    expect(scrub('k=-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- end')).toBe('k=**** end');
    expect(scrub('token=****&a=1')).toBe('token=****&a=1'); // masking twice changes nothing
    const m = masker();
    maskCredentials('token=****', m);
    expect(m.count).toBe(0);
  });

  it('JSON inside a JSON string, escaped quotes in a value, and separators URL-encoded twice', () => {
    // A log body holding serialized JSON (a request body logged as a string field).
    expect(scrub('{"body":"{\\"user\\":\\"bob\\",\\"password\\":\\"hunter2\\"}"}')).toBe('{"body":"{\\"user\\":\\"bob\\",\\"password\\":\\"****\\"}"}');
    // A JSON value with an escaped quote is masked whole, not up to the quote.
    expect(scrub('{"password":"hun\\"ter2","u":1}')).toBe('{"password":"****","u":1}');
    // A redirect URL encoded twice inside another URL: ? and & are %253F and %2526 there.
    expect(scrub('/login?next=https%253A%252F%252Fa%252Fcb%253Ftoken%253Dsecret123')).toBe('/login?next=https%253A%252F%252Fa%252Fcb%253Ftoken%253D****');
    expect(scrub('x=1%2526password%253Dhunter2')).toBe('x=1%2526password%253D****');
  });

  it('a Cookie header quoted in a log line is masked whole, every cookie in it, not only the first', () => {
    expect(scrub('Cookie: lang=en; PHPSESSID=abc123def')).toBe('Cookie: ****');
    expect(scrub('GET /x HTTP/1.1\r\ncookie: a=1; connect.sid=s%3Aabcdef\r\nHost: a')).toBe('GET /x HTTP/1.1\r\ncookie: ****\r\nHost: a');
    expect(scrub('upstream Set-Cookie: theme=dark; sid=abcdef; Path=/')).toBe('upstream Set-Cookie: ****');
    expect(scrub('Cookie: ****')).toBe('Cookie: ****');
    expect(scrub('{"cookie":"a=1; sid=abcdef"}')).toBe('{"cookie":"****"}');
  });

  it('after an Authorization name, the scheme\'s credential is masked whatever it looks like (no prose there)', () => {
    expect(scrub('Authorization: Bearer abcdefghijklmnop')).toBe('Authorization: Bearer ****');
    expect(scrub('{"authorization":"bearer abcdefghijklmnop"}')).toBe('{"authorization":"bearer ****"}');
    expect(scrub('proxy-authorization=Basic Zm9vYmFy')).toBe('proxy-authorization=Basic ****');
    expect(scrub('Authorization: Bearer ****')).toBe('Authorization: Bearer ****');
    expect(scrub('the bearer credentials were missing')).toBe('the bearer credentials were missing');
  });

  it('a JWT is masked whole, a word starting eyJ alone is not', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_-x';
    expect(scrub(`h ${jwt} t`)).toBe('h **** t');
    expect(scrub('eyJust a word')).toBe('eyJust a word');
  });

  it('cards: brands, lengths and Luhn', () => {
    for (const c of CARDS) expect([c, isCardNumber(c)]).toEqual([c, true]);
    expect(isCardNumber('4111111111111112')).toBe(false); // Luhn
    expect(cardBrand('9111111111111111')).toBe(false); // no brand
    expect(cardBrand('5611111111111111')).toBe(false); // 56 is not MasterCard
    expect(cardBrand('2720990000000000')).toBe(true); // MasterCard 2-series upper bound
    expect(cardBrand('2721000000000000')).toBe(false);
    expect(isCardInteger(4111111111111111n)).toBe(true);
    expect(isCardInteger(1700000000000000000n)).toBe(false);
  });

  it('secret keys: any case, dotted and Envoy-style names; counts of tokens are not keys of secrets', () => {
    for (const k of keyedPlants('X')) expect([k.key, isSecretKey(k.key)]).toEqual([k.key, true]);
    for (const k of ['HTTP.REQUEST.HEADER.AUTHORIZATION', 'grpc.metadata.x-goog-api-key', 'x-amz-security-token', 'JSESSIONID']) {
      expect([k, isSecretKey(k)]).toEqual([k, true]);
    }
    // x-jwt-assertion: its value, a JWT, is masked by pattern (no `jwt` key word: see detect.ts).
    for (const k of ['url.path', 'http.response.status_code', 'user_agent.original', 'author', 'session.duration', 'x-jwt-assertion']) {
      expect([k, isSecretKey(k)]).toEqual([k, false]);
    }
  });

  it('hostile input costs linear time (no catastrophic backtracking in any detector)', () => {
    const n = 100_000;
    const cases = {
      'secret words, no separator': 'token'.repeat(n / 5),
      'secret words, each a name': '&tokena'.repeat(n / 7),
      'name characters then no value': `&token${'a'.repeat(n)}`,
      'dotted words': 'a.'.repeat(n / 2),
      'userinfo without @': `x://${'a:'.repeat(n / 2)}`,
      'schemes without credentials': 'Bearer '.repeat(n / 7),
      'digit groups': '1 '.repeat(n / 2),
      'PEM openings': '-----BEGIN RSA PRIVATE KEY-----'.repeat(n / 31),
      'JWT-like': 'eyJaa.'.repeat(n / 6),
      'encoded params': '%26token%3D'.repeat(n / 11),
      'escaped quotes': `{\\"token\\":\\"${'\\\\a'.repeat(n / 3)}`,
      'twice-encoded params': '%2526token%253D'.repeat(n / 15),
      'cookie names': `${'a'.repeat(n)}cookie`,
      'cookie headers': 'Cookie:'.repeat(n / 7),
      'authorization names': 'Authorization: Bearer '.repeat(n / 22),
    };
    for (const [what, text] of Object.entries(cases)) {
      const t0 = performance.now();
      scrub(text);
      scrubText(text);
      const ms = performance.now() - t0;
      expect([what, ms < 1500]).toEqual([what, true]);
    }
  });
});
