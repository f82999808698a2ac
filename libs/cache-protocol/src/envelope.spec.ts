import fc from 'fast-check';
import {
  decodeEnvelope,
  decodeKeyState,
  encodeEnvelope,
  encodeKeyState,
  envelopeOverheadBytes,
  KeyState,
  STATE_BYTES,
  storedHeadOf,
} from './envelope';

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

  describe('format 4 (the whole state of a key in the key)', () => {
    const entryArb = fc.record(
      {
        version: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        writtenAt: fc.integer({ min: 0, max: 9_000_000_000_000 }),
        freshForMs: fc.nat(),
        namespaceGeneration: fc.nat(),
        payload: fc.string(),
        hardUntil: fc.integer({ min: 0, max: 9_000_000_000_000_000 }),
        loadMs: fc.nat(),
        tags: fc.array(fc.record({ stateKey: fc.stringMatching(/^~e\{[a-z:]{1,10}\}$/), epoch: fc.stringMatching(/^[0-9]{1,16}$/) }), {
          minLength: 1,
          maxLength: 3,
        }),
      },
      { requiredKeys: ['version', 'writtenAt', 'freshForMs', 'namespaceGeneration', 'payload', 'hardUntil'] },
    );
    const stateArb = fc.record(
      {
        floor: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        floorUntil: fc.integer({ min: 0, max: 9_000_000_000_000_000 }),
        leaseUntil: fc.integer({ min: 0, max: 9_000_000_000_000_000 }),
        token: fc.stringMatching(/^[A-Za-z0-9_-]{0,24}$/),
        entry: entryArb,
      },
      { requiredKeys: ['floor', 'floorUntil', 'leaseUntil', 'token'] },
    );

    it('round-trips state and value, with a fixed 78-byte state head', () => {
      fc.assert(
        fc.property(stateArb, (state: KeyState) => {
          const raw = encodeKeyState(state);
          expect(raw.slice(0, STATE_BYTES)).toHaveLength(78);
          const back = decodeKeyState(raw);
          expect(back).toEqual({ ...state, entry: state.entry });
          if (state.entry) {
            expect(decodeEnvelope(raw)).toEqual(state.entry);
            expect(storedHeadOf(decodeEnvelope(raw))).toBe(
              raw.slice(78, raw.indexOf('|', raw.indexOf('|', raw.indexOf('|', 78) + 1) + 1) + 1),
            );
          } else expect(() => decodeEnvelope(raw)).toThrow(expect.objectContaining({ code: 'ENVELOPE_INVALID' }));
        }),
      );
    });

    it('reads earlier formats as a value alone (no state)', () => {
      expect(decodeKeyState('1|7|1|0|0|x')).toBeUndefined();
      expect(decodeEnvelope('1|7|1|0|0|x')).toMatchObject({ version: 7, payload: 'x' });
    });

    it.each(['4|', `4|${'0'.repeat(16)}|`, `4|${'0'.repeat(16)}|${'0'.repeat(16)}|${'0'.repeat(16)}|${'.'.repeat(24)}|12|`])(
      'refuses a truncated format-4 key %j',
      (raw) => {
        expect(() => decodeEnvelope(raw)).toThrow(expect.objectContaining({ code: 'ENVELOPE_INVALID' }));
      },
    );
  });
});
