/**
 * Reads a witness file (spec: JSON lines, one checkpoint each, appended and
 * fdatasynced). A last line without its newline is a write cut short by a
 * crash: ignored, with a remark. Any other line that does not parse is
 * refused as a checkpoint that cannot be read — an append-only file has no
 * business holding one.
 */
import type { CheckpointInput } from './verify-types.ts';

export interface WitnessRead {
  checkpoints: CheckpointInput[];
  /** Lines that are not checkpoints (where + reason): failures. */
  bad: { where: string; reason: string }[];
  remarks: string[];
}

export function parseWitnessFile(text: string, name: string): WitnessRead {
  const checkpoints: CheckpointInput[] = [];
  const bad: WitnessRead['bad'] = [];
  const remarks: string[] = [];
  const lines = text.split('\n');
  const torn = lines.pop(); // '' when the file ends with a newline
  if (torn) remarks.push(`${name}:${lines.length + 1}: last line is incomplete (a write cut short); ignored`);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const where = `${name}:${i + 1}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not a JSON object');
    } catch (err) {
      bad.push({ where, reason: `not JSON: ${(err as Error).message}` });
      continue;
    }
    if (typeof o.note !== 'string') {
      bad.push({ where, reason: 'no "note"' });
      continue;
    }
    const claimed: CheckpointInput['claimed'] = {};
    if (typeof o.origin === 'string') claimed.origin = o.origin;
    if (typeof o.size === 'number') claimed.size = o.size;
    if (typeof o.root === 'string') claimed.root = Buffer.from(o.root, 'base64');
    if (typeof o.key === 'string') claimed.key = o.key;
    checkpoints.push({ source: 'witness', where, note: o.note, claimed });
  }
  return { checkpoints, bad, remarks };
}
