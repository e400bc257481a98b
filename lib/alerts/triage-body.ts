/**
 * The body of a triage request (triage.ts): read within size and time
 * bounds, and parsed fail closed into the one thing it may hold, a note.
 */
import type http from 'node:http';

export const MAX_NOTE = 4096;
const MAX_BODY = 16 * 1024;
const BODY_DEADLINE_MS = 10_000;
/**
 * Control characters but newline and tab, C1 controls, and the invisible
 * ones that make a note read otherwise than it is stored: bidirectional
 * overrides/isolates/marks (a note in the evidence report or a terminal
 * could show reordered text) and the Unicode line/paragraph separators.
 */
const NOTE_OK = /^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]*$/;

export class TriageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The body, whole, within the size and time bounds. */
export function readBody(req: http.IncomingMessage, deadlineMs = BODY_DEADLINE_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) return reject(new TriageError(413, `the body is larger than ${MAX_BODY} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new TriageError(408, `the body did not arrive within ${deadlineMs / 1000}s`)), deadlineMs);
    const fail = (err: TriageError) => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      req.resume();
      reject(err);
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) return fail(new TriageError(413, `the body is larger than ${MAX_BODY} bytes`));
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('aborted', () => fail(new TriageError(400, 'the body was not sent whole')));
    req.on('error', () => fail(new TriageError(400, 'the body was not sent whole')));
  });
}

/**
 * How many keys the outermost object of `json` (already parsed, so valid)
 * holds as written: JSON.parse keeps the last of a repeated key silently,
 * and which one another reader keeps is what an attacker probes for.
 */
function outerKeys(json: string): number {
  let depth = 0;
  let keys = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (json.charCodeAt(j) !== 0x22) j += json.charCodeAt(j) === 0x5c ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (json[k] === ' ' || json[k] === '\t' || json[k] === '\n' || json[k] === '\r') k++;
        if (json[k] === ':') keys++;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return keys;
}

const EXPECTED = 'expected a JSON object {"note": "…"}';

/** The note of a triage body, or why it is refused. */
export function parseNote(body: string): string {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new TriageError(400, EXPECTED);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TriageError(400, EXPECTED);
  const keys = Object.keys(v);
  if (keys.some((k) => k !== 'note')) throw new TriageError(400, `unknown key ${JSON.stringify(keys.find((k) => k !== 'note'))}: only "note" is taken`);
  const note = (v as { note?: unknown }).note;
  if (typeof note !== 'string' || !note.trim()) throw new TriageError(400, 'a note is required: why it is acknowledged or resolved');
  if (outerKeys(body) !== 1) throw new TriageError(400, '"note" is given more than once: send it once');
  if (note.length > MAX_NOTE) throw new TriageError(400, `the note is longer than ${MAX_NOTE} characters`);
  if (!NOTE_OK.test(note)) throw new TriageError(400, 'the note holds control characters (bidirectional-text and line-separator characters included)');
  return note;
}
