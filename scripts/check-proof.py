#!/usr/bin/env python3
"""Check a `trailhouse proof` document without trailhouse: SHA-256 (hashlib) and
an Ed25519 verifier (the `cryptography` package, or `openssl` 3).

    python3 scripts/check-proof.py proof.json 'name+hhhhhhhh+base64key'

Exit 0 when the row is in the log the key signed, 1 when it is not, 2 on bad
input. Each step is printed; README "How an auditor checks a proof without
trailhouse" explains them. CHECK_PROOF_ED25519=openssl forces openssl.
"""
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile


def sha256(b):
    return hashlib.sha256(b).digest()


def s(text):
    """str(s): u32 big-endian UTF-8 byte length, then the bytes."""
    b = text.encode('utf-8')
    return struct.pack('>I', len(b)) + b


def body_bytes(row):
    out = b''.join(s(row[k]) for k in ('Action', 'Principal', 'Source', 'Destination', 'Resource', 'Policy', 'TraceId', 'SpanId'))
    pairs = sorted(row['Details'].items(), key=lambda kv: kv[0].encode('utf-8'))
    out += struct.pack('>I', len(pairs))
    for k, v in pairs:
        out += s(k) + s(v)
    return out


LOGS_FORMAT = 'trailhouse-logs-proof/v1'


def entry_bytes(row, body_hash, logs=False):
    header = (row['SeverityText'], row['SeverityNumber']) if logs else (row['Category'], row['Outcome'])
    return (b'\x01' + s(row['LogOrigin']) + struct.pack('>Q', row['LogIndex']) + struct.pack('>q', int(row['Timestamp']))
            + s(header[0]) + s(header[1]) + s(row['ServiceName']) + body_hash)


def root_from_inclusion_proof(index, size, leaf, proof):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = sha256(b'\x01' + p + r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(b'\x01' + r + p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def ed25519_verify(public_key, signature, message):
    if os.environ.get('CHECK_PROOF_ED25519') != 'openssl':
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
            from cryptography.exceptions import InvalidSignature
        except ImportError:
            pass
        else:
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
                return True
            except InvalidSignature:
                return False
    # openssl 3: the key as SubjectPublicKeyInfo (RFC 8410), the raw message.
    spki = bytes.fromhex('302a300506032b6570032100') + public_key
    pem = b'-----BEGIN PUBLIC KEY-----\n' + base64.encodebytes(spki) + b'-----END PUBLIC KEY-----\n'
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in ('key.pem', 'msg', 'sig')}
        for n, data in (('key.pem', pem), ('msg', message), ('sig', signature)):
            with open(paths[n], 'wb') as f:
                f.write(data)
        r = subprocess.run(['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', paths['key.pem'], '-rawin', '-in', paths['msg'], '-sigfile', paths['sig']],
                           capture_output=True)
        return r.returncode == 0


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding='utf-8') as f:
            proof = json.load(f)
        name, key_id, key_b64 = argv[2].strip().split('+', 2)
        key = base64.b64decode(key_b64, validate=True)
        row = proof['row']
    except (OSError, ValueError, KeyError) as e:
        print(f'cannot read the proof or the key: {e}', file=sys.stderr)
        return 2
    ok = True

    def step(what, good, detail=''):
        nonlocal ok
        ok = ok and good
        print(f"{'ok  ' if good else 'FAIL'} {what}{': ' + detail if detail else ''}")
        return good

    # 1. the row's body, then its entry, then its leaf: recomputed from the columns
    #    (an otel_logs row's body is the RowBinary of its other columns, as the store returns it).
    logs = proof.get('format') == LOGS_FORMAT
    body_hash = sha256(bytes.fromhex(row['RowBinary']) if logs else body_bytes(row))
    if not step('body hash', body_hash.hex() == proof['bodyHash'], body_hash.hex()):
        return 1
    entry = entry_bytes(row, body_hash, logs)
    if not step('entry', entry.hex() == proof['entry']):
        return 1
    leaf = sha256(b'\x00' + entry)
    if not step('leaf hash', leaf.hex() == proof['leafHash'], leaf.hex()):
        return 1
    # 2. the checkpoint: text, blank line, signature lines "— <name> base64(key id ‖ signature)".
    note = proof['checkpoint']
    cut = note.rfind('\n\n')
    text, sigs = note[:cut + 1], note[cut + 2:].splitlines()
    origin, size, root_b64 = text.split('\n')[:3]
    root = base64.b64decode(root_b64)
    step('checkpoint', origin == row['LogOrigin'] and int(size) == proof['treeSize'], f'origin {origin}, size {size}')
    # 3. the signature, by the key the auditor trusts.
    if len(key) != 33 or key[0] != 1 or sha256(name.encode() + b'\n' + key)[:4].hex() != key_id:
        step('verifier key', False, 'not an Ed25519 note key whose id matches')
        return 1
    signed = False
    for line in sigs:
        if not line.startswith('\u2014 '):
            continue
        signer, blob = line[2:].split(' ', 1)
        raw = base64.b64decode(blob)
        if signer == name and raw[:4].hex() == key_id:
            signed = ed25519_verify(key[1:], raw[4:], text.encode('utf-8'))
    step('signature', signed, f'by {name}+{key_id}')
    # 4. the proof: from the leaf up to the signed root.
    hashes = [bytes.fromhex(h) for h in proof['proof']]
    got = root_from_inclusion_proof(proof['index'], proof['treeSize'], leaf, hashes)
    step('inclusion', got == root, f"{len(hashes)} hashes to root {root_b64}")
    print(f"proof {'valid' if ok else 'INVALID'}: {proof.get('eventId')}")
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
