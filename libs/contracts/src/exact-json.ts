// JSON for event payloads without losing integer digits. JSON.parse turns 9007199254740993
// into 9007199254740992: a key built from it names another entity. Only text with a run of 16+
// digits can hold an integer beyond 2^53 - 1, so only such text takes the (slower) lossless
// parser; there, integers beyond the safe range become BigInt (exact digits, rendered as such
// in keys and tags), everything else is what JSON.parse gives.
import { parse as losslessParse, stringify as losslessStringify } from 'lossless-json';

const LONG_DIGIT_RUN = /\d{16,}/;
const INTEGER = /^-?\d+$/;

function parseNumber(text: string): number | bigint {
  if (INTEGER.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number.parseFloat(text);
}

/** JSON.parse, except that integers beyond Number.MAX_SAFE_INTEGER come back as exact BigInts. Duplicate keys: the last wins, as with JSON.parse. */
export function parseExactJson(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  return losslessParse(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue });
}

/** JSON.stringify, except that BigInts (from parseExactJson) are written as their exact digits. */
export function stringifyExactJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    // JSON.stringify refuses BigInt with a TypeError; only then pay for the lossless writer.
    if (!(error instanceof TypeError)) throw error;
    const text = losslessStringify(value);
    if (text === undefined) throw error;
    return text;
  }
}
