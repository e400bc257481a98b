/**
 * Secret detectors: which keys hold a credential, and where in a text a
 * credential or a card number sits. The redaction processor's built-in
 * rules (`mask_credentials`, `mask_payment_cards`) and the process's own
 * logs (scrubText, scrubFields: telemetry/logger.ts) use them. Hand-written
 * rather than user regexes so that the processor's bytes pre-check
 * (processors/redaction/precheck.ts) can know, from a few trigger words,
 * that a payload cannot hold anything these would mask.
 *
 * The invariant that keeps the fast path safe: every text these functions
 * change contains a match of TRIGGER (precheck.ts tests it over the raw
 * protobuf, every string of which is its UTF-8 bytes). Adding a detector
 * means adding its trigger there first.
 *
 * Case-insensitive matching is ASCII-only (regexes with `i` and no `u`), the
 * same in the pre-check and here, so the two never disagree on a key.
 */

/** Words whose presence (any case) in a key makes its whole value a secret. */
export const SECRET_KEY_WORDS = [
  'authoriz', // authorization, proxy-authorization, http.request.header.authorization
  'cookie', // cookie, set-cookie
  'passw', // password, passwd
  'secret', // secret, client_secret, x-secret
  'token', // token, access_token, x-auth-token, x-csrf-token, x-amz-security-token
  'api-key', 'api_key', 'apikey', 'api.key',
  'private-key', 'private_key', 'privatekey',
  'access-key', 'access_key', 'accesskey',
  'credential',
  'shared_key', 'shared-key', 'sharedkey', // the forward protocol's handshake key
  'signature', // x-amz-signature, x-goog-signature
  // Not `jwt`: a three-letter trigger would fire on random id bytes; a JWT
  // under any key (x-jwt-assertion) is found by its value (JWT below).
  'session-id', 'session_id', 'sessionid',
] as const;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

export const SECRET_KEY = new RegExp(SECRET_KEY_WORDS.map(escape).join('|'), 'i');

/** Whether a key names a credential (its whole value is masked). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

// ---------------------------------------------------------------- credentials in text

/**
 * `name=value` / `name: value` / `"name":"value"` where the name ends in a
 * secret word: query strings (also URL-encoded, `%3D` and `%253D`), form
 * bodies, JSON and log lines. The value runs to the next separator.
 */
const NAME_CHARS = '[A-Za-z0-9_.\\-]';
const PARAM = new RegExp(
  // The name is taken whole (a lookahead and its backreference: no backtracking into it, so a
  // long run of name characters costs linear time), then must contain a secret word.
  String.raw`((?:^|[?&;,\s"'{(/]|%26|%3F|%20|%2526|%253F|%2520)(?=(${NAME_CHARS}+))\2(?<=(?:` +
    SECRET_KEY_WORDS.map(escape).join('|') +
    String.raw`)${NAME_CHARS}*)(?:\\?["'])?\s*(?:=|:|%3D|%253D)\s*)` +
    // Not an auth scheme's word (AUTH handles `authorization: Bearer x`), not already masked.
    String.raw`(?!\\?["']?(?:bearer|basic|token|apikey|negotiate)\s)(?!\\?["']?\*{4}(?![^&\s#"',;<>})\]]))` +
    // A quoted value runs to its closing quote (past escaped ones: JSON), a
    // value quoted \"like this\" (JSON inside a JSON string) to its \", an
    // unquoted one to the next separator.
    String.raw`(?:"((?:[^"\\]|\\.)*)"|\\"((?:[^"\\]|\\[^"])*)\\"|'([^']*)'|((?:(?!%26|%2526)[^&\s#"',;<>})\]])+))`,
  'gi',
);

/**
 * A Cookie / Set-Cookie header line (`Cookie: a=1; sid=…`): its value is
 * every cookie to the end of the line, not one `name=value` (PARAM would
 * stop at the first `;` and keep the session cookies after it).
 */
const COOKIE_HEADER = /((?:^|[^A-Za-z0-9_.\-"'])[A-Za-z0-9_.\-]*cookie[ \t]*:[ \t]*)(?!\*{4}(?![^\r\n]))([^\r\n"' \t][^\r\n]*)/gi;

/**
 * An HTTP auth scheme and its credential (`Authorization: Bearer …` quoted in
 * a log line or an error). After an Authorization name (the first group) there
 * is no prose: the credential is masked whatever it looks like.
 */
const AUTH = /((?:authoriz[A-Za-z0-9_.\-]*["']?[ \t]*[:=][ \t]*["']?)?)\b(bearer|basic|token|apikey|negotiate)(\s+)([A-Za-z0-9\-._~+/]+=*)/gi;

/** A password in a URL's userinfo: `scheme://user:password@host`. */
const USERINFO = /(:\/\/[^/\s:@]*:)([^/\s@]+)(?=@)/g;

/** A JWT (JWS or JWE): base64url parts, the first (a JSON header) starting `eyJ`. */
const JWT = /\beyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){1,4}/g;

/** A PEM private key block. */
const PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;

/** A credential-looking token: not a plain word of prose ("the bearer credentials"). */
function secretLike(tok: string): boolean {
  if (tok.length >= 24) return true;
  for (let i = 0; i < tok.length; i++) {
    const c = tok.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (i > 0 && c >= 65 && c <= 90) || c === 45 || c === 46 || c === 95 || c === 126 || c === 43 || c === 47 || c === 61) return true;
  }
  return false;
}

/** `Basic` takes base64 of `user:password`: anything else after the word is prose. */
function basicCredential(tok: string): boolean {
  if (tok.length < 4) return false;
  const raw = Buffer.from(tok, 'base64');
  const i = raw.indexOf(0x3a);
  if (i < 0) return false;
  for (const b of raw) if (b < 0x20 || b === 0x7f) return false;
  return true;
}

/** Counts masks made by one call (read and reset by the caller). */
export interface Masker {
  mask(secret: string): string;
  count: number;
}

/** Credentials in free text masked, the text around them kept (`Bearer ****`, `token=****`). */
export function maskCredentials(s: string, m: Masker): string {
  let out = s;
  if (out.includes('-----BEGIN')) out = out.replace(PEM, (x) => (m.count++, m.mask(x)));
  out = out.replace(AUTH, (all, named: string, scheme: string, sp: string, tok: string) => {
    const lower = scheme.toLowerCase();
    if (tok.startsWith('****') || (!named && (lower === 'basic' ? !basicCredential(tok) : !secretLike(tok)))) return all;
    m.count++;
    return `${named}${scheme}${sp}${m.mask(tok)}`;
  });
  out = out.replace(JWT, (x) => (x.includes('.') && x.length >= 16 ? (m.count++, m.mask(x)) : x));
  if (/cookie/i.test(out)) out = out.replace(COOKIE_HEADER, (_all, pre: string, v: string) => (m.count++, `${pre}${m.mask(v.trimEnd())}${v.slice(v.trimEnd().length)}`));
  out = out.replace(USERINFO, (_all, pre: string, pw: string) => (pw === '****' ? _all : (m.count++, `${pre}${m.mask(pw)}`)));
  out = out.replace(PARAM, (_all, pre: string, _name: string, dq?: string, edq?: string, sq?: string, bare?: string) => {
    m.count++;
    if (dq !== undefined) return `${pre}"${m.mask(dq)}"`;
    if (edq !== undefined) return `${pre}\\"${m.mask(edq)}\\"`;
    if (sq !== undefined) return `${pre}'${m.mask(sq)}'`;
    return `${pre}${m.mask(bare!)}`;
  });
  return out;
}

// ---------------------------------------------------------------- payment cards

/** 13–19 digits, single spaces or dashes allowed between them, not inside a longer digit run. */
const CARD = /(?<![0-9])[0-9](?:[ -]?[0-9]){12,22}(?![0-9])/g;

/** Visa, MasterCard (51–55, 2221–2720), Amex, Discover, JCB, Diners, UnionPay; by prefix and length. */
export function cardBrand(d: string): boolean {
  const n = d.length;
  const p2 = +d.slice(0, 2);
  const p4 = +d.slice(0, 4);
  if (d[0] === '4') return n === 13 || n === 16 || n === 19;
  if (p2 >= 51 && p2 <= 55) return n === 16;
  if (p4 >= 2221 && p4 <= 2720) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || p2 === 65 || (p4 >= 6440 && p4 <= 6499)) return n >= 16 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if (p2 === 36 || p2 === 38 || p2 === 39 || (p4 >= 3000 && p4 <= 3059)) return n >= 14 && n <= 19;
  if (p2 === 62) return n >= 16 && n <= 19;
  return false;
}

export function luhn(d: string): boolean {
  let sum = 0;
  for (let i = d.length - 1, dbl = false; i >= 0; i--, dbl = !dbl) {
    let x = d.charCodeAt(i) - 48;
    if (dbl && (x *= 2) > 9) x -= 9;
    sum += x;
  }
  return sum % 10 === 0;
}

export const isCardNumber = (digits: string): boolean => digits.length >= 13 && digits.length <= 19 && cardBrand(digits) && luhn(digits);

/**
 * A run of digit groups holds a card when all of it, or a span of whole
 * groups in it, is one (`order 12 4111 1111 1111 1111`): the span masked.
 */
function maskCardRun(run: string, m: Masker): string {
  const digits = run.replace(/[ -]/g, '');
  if (isCardNumber(digits)) return (m.count++, m.mask(run));
  const groups = run.split(/([ -])/); // [g0, sep, g1, sep, …]
  for (let a = 0; a < groups.length; a += 2) {
    let d = '';
    for (let b = a; b < groups.length; b += 2) {
      d += groups[b];
      if (d.length > 19) break;
      if ((a > 0 || b < groups.length - 1) && isCardNumber(d)) {
        m.count++;
        return groups.slice(0, a).join('') + m.mask(groups.slice(a, b + 1).join('')) + groups.slice(b + 1).join('');
      }
    }
  }
  return run;
}

export function maskCards(s: string, m: Masker): string {
  return s.replace(CARD, (run) => maskCardRun(run, m));
}

/** An int value that is a card number (doubles are not checked: see builtins.ts). */
export function isCardInteger(v: bigint): boolean {
  if (v < 1_000_000_000_000n || v >= 10_000_000_000_000_000_000n) return false;
  return isCardNumber(v.toString());
}

// ---------------------------------------------------------------- the process's own logs

const FIXED: Masker = { mask: () => '****', count: 0 };
/** A cheap first look: the words and shapes any credential or card has. */
const MAYBE = new RegExp(SECRET_KEY_WORDS.map(escape).join('|') + String.raw`|bearer|basic|negotiate|eyJ|:\/\/[^\s/@:]*:[^\s/@]*@|-----BEGIN|[0-9](?:[ -]?[0-9]){12}`, 'i');

/** A text (a log message, an error message) with credentials and card numbers masked. */
export function scrubText(s: string): string {
  if (!MAYBE.test(s)) return s;
  return maskCards(maskCredentials(s, FIXED), FIXED);
}

/**
 * Log fields with secrets masked: a string under a key naming a credential
 * (`password`, `authorization`, a `sasl` section's `password`) whole, any
 * other string by scrubText; nested objects and arrays walked (to depth 8).
 */
export function scrubFields(v: unknown, key = '', depth = 0): unknown {
  if (typeof v === 'string') return key !== '' && isSecretKey(key) && v !== '' ? '****' : scrubText(v);
  if (v === null || typeof v !== 'object' || depth > 8) return v;
  if (Array.isArray(v)) return v.map((x) => scrubFields(x, key, depth + 1));
  if (v instanceof Error) return { name: v.name, message: scrubText(v.message) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrubFields(x, k, depth + 1);
  return out;
}
