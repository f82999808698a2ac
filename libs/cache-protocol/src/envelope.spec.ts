import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, envelopeOverheadBytes } from './envelope';

describe('value envelope', () => {
  it('round-trips any payload, including separators and unicode', () => {
    const natural = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
    fc.assert(
      fc.property(
        natural,
        natural,
        fc.nat(),
        fc.nat(),
        fc.fullUnicodeString(),
        (version, writtenAt, freshForMs, namespaceGeneration, payload) => {
          const e = { version, writtenAt, freshForMs, namespaceGeneration, payload };
          expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
        },
      ),
    );
  });

  it('round-trips tagged values (format 2): tag epochs before a newline, any payload after it', () => {
    const stamp = fc.record({ stateKey: fc.stringMatching(/^~e\{[^\s{}]{1,20}\}$/), epoch: fc.stringMatching(/^[0-9]{1,16}$/) });
    fc.assert(
      fc.property(fc.nat(), fc.array(stamp, { minLength: 1, maxLength: 4 }), fc.fullUnicodeString(), (version, tags, payload) => {
        const e = { version, writtenAt: 5, freshForMs: 0, namespaceGeneration: 1, payload, tags };
        expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
      }),
    );
    expect(
      encodeEnvelope({
        version: 7,
        writtenAt: 1,
        freshForMs: 0,
        namespaceGeneration: 0,
        payload: 'a\nb',
        tags: [{ stateKey: '~e{t|1}', epoch: '42' }],
      }),
    ).toBe('2|7|1|0|0|~e{t|1} 42\na\nb');
    expect(encodeEnvelope({ version: 7, writtenAt: 1, freshForMs: 0, namespaceGeneration: 0, payload: 'x', tags: [] })).toBe('1|7|1|0|0|x');
  });

  it('round-trips values with their load time (format 3), tagged or not', () => {
    const stamp = fc.record({ stateKey: fc.stringMatching(/^~e\{[^\s{}]{1,20}\}$/), epoch: fc.stringMatching(/^[0-9]{1,16}$/) });
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(),
        fc.array(stamp, { minLength: 0, maxLength: 3 }),
        fc.fullUnicodeString(),
        (version, loadMs, tags, payload) => {
          const e = {
            version,
            writtenAt: 5,
            freshForMs: 10,
            namespaceGeneration: 1,
            payload,
            loadMs,
            ...(tags.length > 0 ? { tags } : {}),
          };
          expect(decodeEnvelope(encodeEnvelope(e))).toEqual(e);
        },
      ),
    );
    expect(encodeEnvelope({ version: 7, writtenAt: 1, freshForMs: 9, namespaceGeneration: 0, payload: 'x', loadMs: 42 })).toBe(
      '3|7|1|9|0|42|\nx',
    );
  });

  it('is compact: a small header before the untouched payload', () => {
    const header = envelopeOverheadBytes({
      version: 1_764_000_000_000,
      writtenAt: 1_764_000_000_000,
      freshForMs: 60_000,
      namespaceGeneration: 3,
    });
    expect(header).toBeLessThanOrEqual(40);
    expect(encodeEnvelope({ version: 7, writtenAt: 1, freshForMs: 0, namespaceGeneration: 0, payload: '{"a":"|"}' })).toBe(
      '1|7|1|0|0|{"a":"|"}',
    );
  });

  it.each([
    '',
    'hello',
    '3|1|1|0|0|x',
    '2|1|1|0|0|x',
    '2|1|1|0|0|~e{t}\nx',
    '1|1|1|0|x',
    '1|-1|1|0|0|x',
    '1|a|1|0|0|x',
    '3|1|1|0|0|a|\nx',
    '3|1|1|0|0|5|x',
  ])('refuses %j with ENVELOPE_INVALID', (raw) => {
    expect(() => decodeEnvelope(raw)).toThrow(expect.objectContaining({ code: 'ENVELOPE_INVALID' }));
  });
});
