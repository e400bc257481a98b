/**
 * `trailhouse hash-password`: the hash to write in the clickhouse exporter's
 * `query_users` (or a `basicauth` htpasswd line's hash), so no password is
 * kept in a config file.
 *
 *   printf %s "$PASSWORD" | trailhouse hash-password            # bcrypt → password_bcrypt_hash
 *   printf %s "$PASSWORD" | trailhouse hash-password --sha256   # → password_sha256_hex
 *   trailhouse hash-password                                    # on a terminal: asked twice, not echoed
 *
 * The password is read from stdin only (never from the command line, where
 * `ps` and shell history would keep it); one trailing newline is dropped, so
 * `echo "$PASSWORD" |` works too. Only the hash is printed.
 */
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { flag, parseArgs } from './args.ts';

const USAGE = 'usage: printf %s "$PASSWORD" | trailhouse hash-password [--sha256] [--cost 10]\n';

export interface HashIo {
  out(s: string): void;
  err(s: string): void;
  /** The password: piped stdin, or asked on the terminal without echo. */
  readPassword(prompt: string): Promise<string>;
  interactive: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the terminal in raw mode, echoing nothing. */
function readHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export const processHashIo: HashIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  readPassword: (prompt) => (process.stdin.isTTY ? readHidden(prompt) : readStdin()),
  interactive: !!process.stdin.isTTY,
};

export async function hashPasswordCommand(argv: string[], io: HashIo = processHashIo): Promise<number> {
  const args = parseArgs(argv, ['sha256', 'help']);
  if (args.flags.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const cost = Number(flag(args, 'cost') ?? 10);
  const unknown = [...args.flags.keys()].filter((k) => !['sha256', 'cost', 'help'].includes(k));
  if (unknown.length) {
    // Its value is not echoed: `--password hunter2` is exactly the mistake this guards.
    io.err(`trailhouse hash-password: unknown option --${unknown[0]!.replace(/[^\w-]/g, '?')}; the password is read from stdin\n` + USAGE);
    return 2;
  }
  if (args.positional.length) {
    io.err('trailhouse hash-password: the password is read from stdin, not the command line (where ps and shell history keep it)\n' + USAGE);
    return 2;
  }
  if (!Number.isInteger(cost) || cost < 8 || cost > 14) {
    io.err(`trailhouse hash-password: --cost: expected an integer from 8 to 14, got ${JSON.stringify(flag(args, 'cost'))}\n`);
    return 2;
  }
  let password: string;
  try {
    password = await io.readPassword('Password: ');
    if (io.interactive && (await io.readPassword('Again: ')) !== password) {
      io.err('trailhouse hash-password: the two passwords differ\n');
      return 1;
    }
  } catch (err) {
    io.err(`trailhouse hash-password: ${(err as Error).message}\n`);
    return 1;
  }
  password = password.replace(/\r?\n$/, '');
  if (!password) {
    io.err('trailhouse hash-password: empty password\n' + USAGE);
    return 2;
  }
  if (args.flags.has('sha256')) {
    io.out(createHash('sha256').update(password, 'utf8').digest('hex') + '\n');
    return 0;
  }
  if (Buffer.byteLength(password) > 72) {
    io.err('trailhouse hash-password: bcrypt reads at most 72 bytes of a password; use a shorter one, or --sha256 for a long random one\n');
    return 2;
  }
  io.out((await bcrypt.hash(password, cost)) + '\n');
  return 0;
}
