/**
 * The body of a C2SP tlog checkpoint (https://c2sp.org/tlog-checkpoint), the
 * text a signed note carries:
 *
 *   <origin>\n
 *   <tree size, decimal, no leading zeros>\n
 *   <base64 of the 32-byte root hash>\n
 *   [extension lines]
 *
 * Ours has one extension line, `time <ISO 8601 UTC with milliseconds>`, when
 * the checkpoint was made. Parsing is strict about the first three lines and
 * about our time line, and ignores extension lines it does not know.
 */
import { decodeBase64 } from './base64.ts';
import { isHash } from './hash.ts';

export interface Checkpoint { origin: string; size: number; root: Buffer; time?: Date }

const ORIGIN = /^[A-Za-z0-9._:/-]{1,256}$/;
const SIZE = /^(0|[1-9][0-9]{0,15})$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Our origins: 1-256 of A-Z a-z 0-9 . _ : / - (no space, no '+', no '@'). */
export function validOrigin(origin: string): boolean {
  return typeof origin === 'string' && ORIGIN.test(origin);
}

function isoTime(t: Date): string {
  const ms = t instanceof Date ? t.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new RangeError('checkpoint: time is not a valid Date');
  const s = t.toISOString();
  // Years outside 0000-9999 print as "+012345-...": not what parsers expect.
  if (!ISO_MS.test(s)) throw new RangeError(`checkpoint: time ${s} is outside the years 0000-9999`);
  return s;
}

export function checkpointText(c: Checkpoint): string {
  if (!validOrigin(c.origin)) throw new RangeError(`checkpoint: invalid origin ${JSON.stringify(c.origin)} (1-256 of A-Z a-z 0-9 . _ : / -)`);
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new RangeError(`checkpoint: size must be a non-negative safe integer (got ${String(c.size)})`);
  if (!isHash(c.root)) throw new RangeError('checkpoint: root must be a 32-byte hash');
  let text = `${c.origin}\n${c.size}\n${Buffer.from(c.root).toString('base64')}\n`;
  if (c.time !== undefined) text += `time ${isoTime(c.time)}\n`;
  return text;
}

/** Parses a checkpoint body (the text of an opened note); throws saying what is wrong. */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw new Error('checkpoint: the text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new Error(`checkpoint: ${lines.length} line(s), want at least origin, size and root`);
  const [origin, sizeText, rootText, ...ext] = lines;
  if (!validOrigin(origin)) throw new Error(`checkpoint: invalid origin ${JSON.stringify(origin)}`);
  if (!SIZE.test(sizeText)) throw new Error(`checkpoint: size ${JSON.stringify(sizeText)} is not a decimal number without leading zeros`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new Error(`checkpoint: size ${sizeText} is beyond 2^53 - 1`);
  const root = decodeBase64(rootText);
  if (!root || root.length !== 32) throw new Error(`checkpoint: root ${JSON.stringify(rootText)} is not canonical base64 of 32 bytes`);
  const c: Checkpoint = { origin, size, root };
  for (const line of ext) {
    if (line.length === 0) throw new Error('checkpoint: empty extension line');
    if (/[\u0000-\u001f]/.test(line)) throw new Error('checkpoint: control character in an extension line');
    if (line === 'time' || line.startsWith('time ')) {
      if (c.time) throw new Error('checkpoint: two time lines');
      const s = line.slice(5);
      const t = new Date(s);
      if (!ISO_MS.test(s) || !Number.isFinite(t.getTime()) || t.toISOString() !== s) {
        throw new Error(`checkpoint: time ${JSON.stringify(s)} is not an ISO 8601 UTC time with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ)`);
      }
      c.time = t;
    }
  }
  return c;
}
