// The loader's checked lookup (DNS rebinding) with an injected resolver, and the bounded body
// reader: no name resolves to an internal address offline, so the lookup is proven here.
import type { LookupAddress } from 'node:dns';
import { parseHostAllowList } from '@app/registry-core/url/target-url';
import { AddressRefusedError, BodyTooLargeError, checkedLookup, readBounded, refusedAddress } from './loader-fetch';

const lookupWith = (addresses: string[], allow = '') => {
  const lookup = checkedLookup(parseHostAllowList(allow, 'LOADER_ALLOWED_HOSTS'), async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
  );
  return (options: { all?: boolean; family?: number } = {}) =>
    new Promise<{ error: Error | null; address: string | LookupAddress[]; family?: number }>((resolve) =>
      lookup('loader.example', options, (error, address, family) => resolve({ error, address, family })),
    );
};

describe('checkedLookup', () => {
  it.each([[['127.0.0.1']], [['10.0.0.1']], [['169.254.169.254']], [['::1']], [['::ffff:127.0.0.1']], [['127.0.0.1', '10.0.0.1']]])(
    'refuses a name that resolves only to internal addresses %j',
    async (addresses) => {
      const { error } = await lookupWith(addresses)();
      expect(error).toBeInstanceOf(AddressRefusedError);
      expect(error?.message).toContain('loader.example');
    },
  );

  it('refuses a name that resolves to nothing', async () => {
    expect((await lookupWith([])()).error).toBeInstanceOf(AddressRefusedError);
  });

  it('hands the socket only the checked addresses (one, or all when asked)', async () => {
    const resolve = lookupWith(['10.0.0.1', '93.184.216.34', '127.0.0.1', '2606:2800:220:1:248:1893:25c8:1946']);
    expect(await resolve()).toEqual({ error: null, address: '93.184.216.34', family: 4 });
    expect(await resolve({ all: true })).toEqual({
      error: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
    });
    expect(await resolve({ family: 6 })).toEqual({ error: null, address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 });
  });

  it('lets allow-listed internal addresses through (LOADER_ALLOWED_HOSTS entries and CIDRs)', async () => {
    expect(await lookupWith(['127.0.0.1'], '127.0.0.1')()).toEqual({ error: null, address: '127.0.0.1', family: 4 });
    expect(await lookupWith(['10.1.2.3', '10.9.9.9'], '10.1.0.0/16')({ all: true })).toEqual({
      error: null,
      address: [{ address: '10.1.2.3', family: 4 }],
    });
  });

  it('finds the refusal inside the errors fetch wraps it in', () => {
    const refused = new AddressRefusedError('x');
    expect(refusedAddress(new TypeError('fetch failed', { cause: refused }))).toBe(refused);
    expect(refusedAddress(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }))).toBeUndefined();
  });
});

describe('readBounded', () => {
  const response = (chunks: number[], contentLength?: number) => {
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled === chunks.length) return controller.close();
        controller.enqueue(new Uint8Array(chunks[pulled++]));
      },
      cancel() {
        cancelled = true;
      },
    });
    const headers = new Headers(contentLength === undefined ? {} : { 'content-length': String(contentLength) });
    return { r: { headers, body }, pulled: () => pulled, cancelled: () => cancelled };
  };

  it('reads a body up to the limit', async () => {
    const { r } = response([10, 20, 30]);
    expect((await readBounded(r, 60)).length).toBe(60);
  });

  it('refuses a larger Content-Length before reading anything', async () => {
    const { r, pulled, cancelled } = response([10], 1_000_000);
    await expect(readBounded(r, 100)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(pulled()).toBe(0);
    expect(cancelled()).toBe(true);
  });

  it('stops reading and cancels the stream at the first chunk past the limit', async () => {
    const { r, pulled, cancelled } = response(Array<number>(1_000).fill(64));
    await expect(readBounded(r, 100)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(pulled()).toBeLessThan(5);
    expect(cancelled()).toBe(true);
  });
});
