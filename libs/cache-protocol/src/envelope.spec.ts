import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, envelopeOverheadBytes } from './envelope';

describe('value envelope', () => {
  it('round-trips any payload, including separators and unicode', () => {
    const natural = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(natural, natural, fc.nat(), fc.nat(), fc.fullUnicodeString(), (version, writtenAt, freshForMs, namespaceGeneration, payload) => {
        const e = { version, writtenAt, freshForMs, namespaceGeneration, payload };
        expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
      }),
    );
  });

  it('is compact: a small header before the untouched payload', () => {
    const header = envelopeOverheadBytes({ version: 1_764_000_000_000, writtenAt: 1_764_000_000_000, freshForMs: 60_000, namespaceGeneration: 3 });
    expect(header).toBeLessThanOrEqual(40);
    expect(encodeEnvelope({ version: 7, writtenAt: 1, freshForMs: 0, namespaceGeneration: 0, payload: '{"a":"|"}' })).toBe('1|7|1|0|0|{"a":"|"}');
  });

  it.each(['', 'hello', '2|1|1|0|0|x', '1|1|1|0|x', '1|-1|1|0|0|x', '1|a|1|0|0|x'])('refuses %j with ENVELOPE_INVALID', (raw) => {
    expect(() => decodeEnvelope(raw)).toThrow(expect.objectContaining({ code: 'ENVELOPE_INVALID' }));
  });
});
