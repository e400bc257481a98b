/**
 * report.sig: a C2SP signed note (lib/tlog/note.ts) whose text names the
 * period and the SHA-256 of report.html and report.json, in sha256sum's own
 * line format so `sed -n 3,4p report.sig | sha256sum -c` checks the files
 * without trailhouse:
 *
 *   trailhouse evidence report v1
 *   period <from RFC 3339> <to RFC 3339>
 *   <hex>  report.html
 *   <hex>  report.json
 *
 *   — <key name> <base64 signature>
 */
import { createHash } from 'node:crypto';
import { openNote, parseVerifierKey, signNote, type NoteSigner } from '../tlog/note.ts';

export const NOTE_HEADER = 'trailhouse evidence report v1';
export const REPORT_FILES = ['report.html', 'report.json'] as const;

export const sha256Hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export function reportNoteText(period: { from: string; to: string }, hashes: Record<(typeof REPORT_FILES)[number], string>): string {
  return `${NOTE_HEADER}\nperiod ${period.from} ${period.to}\n${REPORT_FILES.map((f) => `${hashes[f]}  ${f}\n`).join('')}`;
}

export function signReport(period: { from: string; to: string }, files: Record<(typeof REPORT_FILES)[number], Buffer>, signer: NoteSigner): string {
  return signNote(reportNoteText(period, { 'report.html': sha256Hex(files['report.html']), 'report.json': sha256Hex(files['report.json']) }), [signer]);
}

export interface CheckedReport {
  ok: boolean;
  period?: { from: string; to: string };
  signedBy: string[];
  /** One line per check, failures start with "FAILED". */
  lines: string[];
}

/**
 * Opens the note with the trusted keys, then checks each file's hash and that
 * report.json states the period the note names. `read` returns a file's bytes
 * or null when it is missing.
 */
export function checkReport(note: string, trustedKeys: readonly string[], read: (name: string) => Buffer | null): CheckedReport {
  const lines: string[] = [];
  let opened;
  try {
    opened = openNote(note, trustedKeys.map((k) => parseVerifierKey(k)));
  } catch (err) {
    return { ok: false, signedBy: [], lines: [`FAILED signature: ${(err as Error).message}`] };
  }
  const signedBy = opened.signatures.filter((s) => s.verified).map((s) => s.name);
  lines.push(`signature valid: signed by ${signedBy.join(', ')}`);
  const text = opened.text.split('\n').slice(0, -1);
  const period = /^period (\S+) (\S+)$/.exec(text[1] ?? '');
  if (text[0] !== NOTE_HEADER || !period || text.length !== 2 + REPORT_FILES.length) {
    return { ok: false, signedBy, lines: [...lines, `FAILED: the signed text is not an evidence report note (want "${NOTE_HEADER}", a period line and ${REPORT_FILES.length} hash lines)`] };
  }
  let ok = true;
  REPORT_FILES.forEach((name, i) => {
    const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(text[2 + i]!);
    if (!m || m[2] !== name) {
      ok = false;
      lines.push(`FAILED: hash line ${i + 1} does not name ${name}`);
      return;
    }
    const bytes = read(name);
    if (!bytes) {
      ok = false;
      lines.push(`FAILED ${name}: missing`);
      return;
    }
    const got = sha256Hex(bytes);
    if (got !== m[1]) {
      ok = false;
      lines.push(`FAILED ${name}: MODIFIED (sha256 ${got}, the signature names ${m[1]})`);
    } else lines.push(`${name}: sha256 matches`);
  });
  const json = read('report.json');
  if (ok && json) {
    let stated: { from?: unknown; to?: unknown } | undefined;
    try {
      stated = (JSON.parse(json.toString('utf8')) as { period?: { from?: unknown; to?: unknown } }).period;
    } catch {
      stated = undefined;
    }
    if (stated?.from !== period[1] || stated?.to !== period[2]) {
      ok = false;
      lines.push(`FAILED report.json: its period does not match the signed period ${period[1]} to ${period[2]}`);
    }
  }
  return { ok, period: { from: period[1]!, to: period[2]! }, signedBy, lines };
}
