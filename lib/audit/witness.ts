/**
 * Witnesses: places outside the store that keep every signed checkpoint of
 * the audit log, so someone who can rewrite ClickHouse cannot rewrite the
 * checkpoints too (README: "The trust model").
 *
 * - file: an append-only JSON-lines file, one checkpoint per line, each
 *   fsynced before the store gets the checkpoint. Put it on another
 *   volume (or a mount only this process may append to). A line torn by a
 *   crash is skipped by readers, with a remark.
 * - http: each checkpoint POSTed as JSON to an endpoint (a log collector,
 *   an object store gateway, a transparency witness); any 2xx is taken.
 */
import fs from 'node:fs';
import path from 'node:path';

/** One checkpoint as a witness keeps it (a JSON line of the file witness). */
export interface WitnessRecord {
  origin: string;
  size: number;
  /** base64 of the root hash (as in the note). */
  root: string;
  time: string;
  /** `<key name>+<hex key id>`. */
  key: string;
  /** The whole signed note. */
  note: string;
}

export interface Witness {
  readonly name: string;
  /** Settles once the witness holds the record durably; rejects otherwise. */
  append(rec: WitnessRecord): Promise<void>;
  close(): Promise<void>;
}

export class FileWitness implements Witness {
  readonly name: string;
  private fd: number | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {
    this.name = `file:${file}`;
  }

  append(rec: WitnessRecord): Promise<void> {
    const run = this.queue.then(() => this.write(`${JSON.stringify(rec)}\n`));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(line: string): Promise<void> {
    if (this.fd === undefined) {
      const dir = path.dirname(this.file);
      const created = !fs.existsSync(dir);
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      const isNew = !fs.existsSync(this.file);
      this.fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
      // A new file's name is durable only once its directory is synced.
      if (isNew || created) syncDir(dir);
    }
    const fd = this.fd;
    await new Promise<void>((resolve, reject) => fs.write(fd, line, (err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export interface WitnessFileRead {
  records: WitnessRecord[];
  /** Lines that are not a checkpoint record (a torn last line after a crash, or damage), 1-based. */
  bad: { line: number; reason: string }[];
}

/** Every record of a witness file, in order; unreadable lines are reported, not fatal. */
export function readWitnessFile(file: string): WitnessFileRead {
  const out: WitnessFileRead = { records: [], bad: [] };
  if (!fs.existsSync(file)) return out;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((text, i) => {
    try {
      const r = JSON.parse(text) as Partial<WitnessRecord>;
      if (typeof r.origin !== 'string' || typeof r.size !== 'number' || typeof r.root !== 'string' || typeof r.note !== 'string') throw new Error('not a checkpoint record');
      out.records.push(r as WitnessRecord);
    } catch (err) {
      out.bad.push({ line: i + 1, reason: i === lines.length - 1 ? `torn last line (${(err as Error).message})` : (err as Error).message });
    }
  });
  return out;
}

export interface HttpWitnessOptions {
  endpoint: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export class HttpWitness implements Witness {
  readonly name: string;

  constructor(private readonly o: HttpWitnessOptions) {
    this.name = `http:${new URL(o.endpoint).origin}`;
  }

  async append(rec: WitnessRecord): Promise<void> {
    const res = await fetch(this.o.endpoint, {
      method: 'POST',
      headers: { ...this.o.headers, 'content-type': 'application/json' },
      body: JSON.stringify(rec),
      signal: AbortSignal.timeout(this.o.timeoutMs),
      // A witness that answers elsewhere is not the witness configured: refused, not followed.
      redirect: 'error',
    });
    // Only the status counts: the body is not read (a witness cannot make us buffer much).
    await res.body?.cancel().catch(() => undefined);
    if (res.status < 200 || res.status > 299) throw new Error(`witness ${this.name} answered ${res.status}`);
  }

  async close(): Promise<void> {}
}
