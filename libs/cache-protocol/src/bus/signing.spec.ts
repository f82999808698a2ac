import { generateKeyPairSync } from 'node:crypto';
import { busSigner, busVerifier } from './signing';
import { decodeBusMessage, encodeBusMessage } from './message';

const ed = generateKeyPairSync('ed25519');
const privatePem = ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = ed.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const publicDer64 = ed.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const privateDer64 = ed.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');

describe('signed heartbeats and byes', () => {
  it('a signed heartbeat survives encoding and verifies; a changed field, another key or no signature does not', () => {
    const sign = busSigner(privatePem);
    const verify = busVerifier(publicPem);
    const hb = { kind: 'hb' as const, source: 'invalidator-1', at: 1_764_000_000_000, age: 12 };
    const sent = decodeBusMessage(encodeBusMessage({ ...hb, sig: sign(hb) }));
    expect(sent.kind === 'hb' && verify(sent)).toBe(true);
    expect(verify({ ...hb, at: hb.at + 1, sig: sign(hb) })).toBe(false);
    expect(verify({ ...hb, age: 0, sig: sign(hb) })).toBe(false);
    expect(verify({ ...hb, source: 'invalidator-2', sig: sign(hb) })).toBe(false);
    expect(verify(hb)).toBe(false);
    const other = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(verify({ ...hb, sig: busSigner(other)(hb) })).toBe(false);
    // a heartbeat's signature does not make a bye
    const bye = { kind: 'bye' as const, source: hb.source, at: hb.at };
    expect(verify({ ...bye, sig: sign(hb) })).toBe(false);
    expect(verify({ ...bye, sig: sign(bye) })).toBe(true);
  });

  it('takes keys as one-line base64 DER (environment variables) as well as PEM', () => {
    const hb = { kind: 'hb' as const, source: 's', at: 1 };
    expect(busVerifier(publicDer64)({ ...hb, sig: busSigner(privateDer64)(hb) })).toBe(true);
  });

  it('refuses keys that are not Ed25519 or not keys, naming the setting and never echoing the key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => busSigner(rsa, 'BUS_SIGNING_KEY')).toThrow(/BUS_SIGNING_KEY must be an Ed25519 key/);
    expect(() => busSigner('not-a-key-secret', 'BUS_SIGNING_KEY')).toThrow(/^BUS_SIGNING_KEY is not a private key/);
    expect(() => busSigner('not-a-key-secret', 'BUS_SIGNING_KEY')).not.toThrow(/not-a-key-secret/);
    expect(() => busVerifier(privatePem.replace('PRIVATE', 'PUBLIC'), 'bus.verifyKey')).toThrow(/bus.verifyKey/);
  });
});
