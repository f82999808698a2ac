// Signed heartbeats and `bye` messages. Both extend what the bus vouches for in readers' L1 (a
// heartbeat says "everything I changed before `at` is announced"; a `bye` says "stop waiting for
// me"), and every process that can XADD to the bus stream (every cache client announces its own
// fills there) could otherwise send them in an invalidator's name. With a key pair, invalidators
// sign them (Ed25519, node:crypto) and readers given the public key ignore unsigned or forged
// ones. Invalidations and resets are never signed: they only make readers drop entries.
//
// What is signed: kind, source, at and age. A replayed signature vouches for nothing new: `at` is
// bounded by the entry's own stream id, and a process's source id is unique per start.
import { createPrivateKey, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import type { BusMessage } from './message';

export type SignedKind = Extract<BusMessage, { kind: 'hb' | 'bye' }>;

export class BusKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BusKeyError';
  }
}

function payloadOf(m: SignedKind): Buffer {
  return Buffer.from(`${m.kind}|${m.source}|${m.at}|${m.kind === 'hb' ? (m.age ?? '') : ''}`);
}

/** A PEM key, or the base64 of its DER (PKCS#8 private / SPKI public): env variables hold one line. */
function keyText(text: string): { key: string | Buffer; format: 'pem' | 'der' } {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return { key: trimmed.replace(/\\n/g, '\n'), format: 'pem' };
  return { key: Buffer.from(trimmed, 'base64'), format: 'der' };
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new BusKeyError(`${what} must be an Ed25519 key (got ${String(key.asymmetricKeyType)})`);
  return key;
}

/** Signs heartbeats and byes with an Ed25519 private key (PEM or base64 PKCS#8 DER); throws BusKeyError naming `what`. */
export function busSigner(privateKey: string, what = 'bus signing key'): (m: SignedKind) => string {
  let key: KeyObject;
  try {
    const { key: k, format } = keyText(privateKey);
    key = createPrivateKey(format === 'pem' ? { key: k, format } : { key: k as Buffer, format, type: 'pkcs8' });
  } catch (error) {
    throw new BusKeyError(`${what} is not a private key: ${(error as Error).message}`);
  }
  ed25519(key, what);
  return (m) => sign(null, payloadOf(m), key).toString('base64');
}

/** Checks heartbeats' and byes' signatures with an Ed25519 public key (PEM or base64 SPKI DER); throws BusKeyError naming `what`. */
export function busVerifier(publicKey: string, what = 'bus verify key'): (m: SignedKind) => boolean {
  let key: KeyObject;
  try {
    const { key: k, format } = keyText(publicKey);
    key = createPublicKey(format === 'pem' ? { key: k, format } : { key: k as Buffer, format, type: 'spki' });
  } catch (error) {
    throw new BusKeyError(`${what} is not a public key: ${(error as Error).message}`);
  }
  ed25519(key, what);
  return (m) => {
    if (typeof m.sig !== 'string') return false;
    try {
      return verify(null, payloadOf(m), key, Buffer.from(m.sig, 'base64'));
    } catch {
      return false;
    }
  };
}
