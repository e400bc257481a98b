/**
 * Ed25519 signing keys for notes, in files holding Go's note private key
 * string (golang.org/x/mod/sumdb/note):
 *
 *   PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte seed)>\n
 *
 * The first use creates the key: directories 0700, the file 0600, written to
 * a temporary file, fsynced, then hard-linked into place (link fails if the
 * name exists, so when two processes start at once one key wins and both use
 * it). A key file that group or others may read or write is refused: a leaked
 * key lets anyone sign a rewritten history.
 */
import { randomBytes, createPrivateKey, createPublicKey, sign as cryptoSign } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fchmodSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeBase64 } from './base64.ts';
import { ALG_ED25519, NoteError, noteKeyId, parseVerifierKey, validKeyName, verifierKey } from './note.ts';
import type { NoteSigner } from './note.ts';

// DER header of an Ed25519 PKCS#8 private key (RFC 8410) before the 32-byte seed.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

const hex8 = (id: number): string => id.toString(16).padStart(8, '0');

function signerFromSeed(name: string, seed: Buffer): NoteSigner {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = Buffer.from(spki.subarray(spki.length - 32));
  const keyId = noteKeyId(name, publicKey);
  // The private key stays in this closure: not a property, so it is never
  // printed or serialised with the signer.
  return { name, keyId, publicKey, sign: (msg: Buffer): Buffer => cryptoSign(null, msg, key) };
}

function privateKeyString(name: string, seed: Buffer): string {
  const s = signerFromSeed(name, seed);
  return `PRIVATE+KEY+${name}+${hex8(s.keyId)}+${Buffer.concat([Buffer.from([ALG_ED25519]), seed]).toString('base64')}`;
}

/** A signer from Go's private key string (one trailing newline allowed); throws NoteError saying why not. */
export function signerFromPrivateKey(s: string): NoteSigner {
  if (typeof s !== 'string') throw new NoteError('a private key is a string "PRIVATE+KEY+name+hex8+base64"');
  const line = s.endsWith('\n') ? s.slice(0, -1) : s;
  const parts = line.split('+');
  if (parts.length < 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') throw new NoteError('malformed private key: want "PRIVATE+KEY+name+hex8+base64"');
  const [, , name, id] = parts;
  if (!validKeyName(name)) throw new NoteError(`malformed private key: invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(id)) throw new NoteError(`malformed private key ${name}: key id is not 8 lower-case hex digits`);
  const key = decodeBase64(parts.slice(4).join('+'));
  if (!key || key.length !== 33 || key[0] !== ALG_ED25519) throw new NoteError(`malformed private key ${name}+${id}: not base64 of 0x01 and a 32-byte Ed25519 seed`);
  const signer = signerFromSeed(name, key.subarray(1));
  if (signer.keyId !== Number.parseInt(id, 16)) throw new NoteError(`private key ${name}+${id}: the key id does not match the name and key`);
  return signer;
}

/** The verifier key line ("name+hex8+base64") for a signer's public key. */
export function verifierKeyOf(signer: NoteSigner): string {
  return verifierKey(signer.name, signer.publicKey);
}

/** Reads and checks a key file; null when it does not exist. */
function readKeyFile(file: string, name: string): NoteSigner | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`key file ${file}: cannot open it: ${(err as Error).message}`);
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`key file ${file} is not a regular file`);
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(`key file ${file} has mode 0${mode.toString(8)}: group and others must have no access to a signing key (chmod 600 ${file})`);
    }
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let signer: NoteSigner;
  try {
    signer = signerFromPrivateKey(text);
  } catch (err) {
    throw new Error(`key file ${file} is unusable: ${(err as Error).message}`);
  }
  if (signer.name !== name) throw new Error(`key file ${file} holds the key of ${JSON.stringify(signer.name)}, not ${JSON.stringify(name)} (configure that name or move the file away)`);
  return signer;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The signer in `file`, created (with a new random key) on first use. Throws,
 * saying why, for a file others may access, a malformed one, or a key of
 * another name.
 */
export function loadOrCreateSigner(file: string, name: string): NoteSigner {
  if (!validKeyName(name)) throw new NoteError(`invalid key name ${JSON.stringify(name)}: it must be non-empty, without whitespace or '+'`);
  const found = readKeyFile(file, name);
  if (found) return found;
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const seed = randomBytes(32);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600); // whatever the umask
    writeSync(fd, `${privateKeyString(name, seed)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    // EEXIST: another process created it first; use theirs (read below).
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      unlinkSync(tmp);
      throw new Error(`key file ${file}: cannot create it: ${(err as Error).message}`);
    }
  }
  unlinkSync(tmp);
  fsyncDir(dir);
  const made = readKeyFile(file, name);
  if (!made) throw new Error(`key file ${file} vanished right after it was created`);
  return made;
}

/** Where the verifier keys of `keyFile` live: `verifiers` next to it, one vkey per line, current and retired. */
export function verifiersFileOf(keyFile: string): string {
  return join(dirname(keyFile), 'verifiers');
}

/** The vkeys of a verifiers file (blank lines and `#` comments skipped); throws naming the bad line. */
export function readVerifiersFile(file: string): string[] {
  const keys: string[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const k = line.trim();
      if (!k || k.startsWith('#')) return;
      try {
        parseVerifierKey(k);
      } catch (err) {
        throw new Error(`${file}:${i + 1}: not a verifier key: ${(err as Error).message}`);
      }
      keys.push(k);
    });
  return keys;
}

/** Adds `vkey` to the verifiers file unless it is there; returns every vkey the file then holds. */
export function rememberVerifier(file: string, vkey: string): string[] {
  const known = existsSync(file) ? readVerifiersFile(file) : [];
  if (known.includes(vkey)) return known;
  appendFileSync(file, `${vkey}\n`, { mode: 0o644 });
  return [...known, vkey];
}
