import { compareIds } from './subscriber';
import { decodeBusMessage, encodeBusMessage } from './message';

describe('bus messages', () => {
  it('round-trip', () => {
    const inv = {
      kind: 'inv' as const,
      source: 'invalidator-1',
      at: 5,
      keys: [['product:1', 3, 'i'] as [string, number, 'i']],
      tags: ['category:5'],
      namespaces: [['catalog:', 2] as [string, number]],
    };
    expect(decodeBusMessage(encodeBusMessage(inv))).toEqual(inv);
    expect(decodeBusMessage(encodeBusMessage({ kind: 'hb', source: 's', at: 9 }))).toEqual({ kind: 'hb', source: 's', at: 9 });
    expect(decodeBusMessage(encodeBusMessage({ kind: 'hb', source: 's', at: 9, age: 3 }))).toEqual({
      kind: 'hb',
      source: 's',
      at: 9,
      age: 3,
    });
    expect(decodeBusMessage(encodeBusMessage({ kind: 'bye', source: 's', at: 9 }))).toEqual({ kind: 'bye', source: 's', at: 9 });
    expect(decodeBusMessage('{"v":1,"k":"inv","s":"x","at":1}')).toEqual({
      kind: 'inv',
      source: 'x',
      at: 1,
      keys: [],
      tags: [],
      namespaces: [],
    });
  });

  it.each([
    undefined,
    'not json',
    '[]',
    '{"v":2,"k":"hb","s":"x","at":1}',
    '{"v":1,"k":"hb","at":1}',
    '{"v":1,"k":"what","s":"x","at":1}',
    '{"v":1,"k":"inv","s":"x","at":1,"keys":[["a","b","i"]]}',
    '{"v":1,"k":"inv","s":"x","at":1,"keys":[["a",1,"x"]]}',
    '{"v":1,"k":"inv","s":"x","at":1,"tags":[5]}',
    '{"v":1,"k":"inv","s":"x","at":1,"ns":[["a",-1]]}',
    '{"v":1,"k":"hb","s":"x","at":1,"age":-1}',
    '{"v":1,"k":"hb","s":"x","at":1,"age":"1"}',
  ])('refuses %j', (raw) => {
    expect(() => decodeBusMessage(raw)).toThrow(expect.objectContaining({ name: 'BusMessageError' }));
  });

  it('orders stream ids numerically', () => {
    expect(compareIds('10-0', '9-5')).toBeGreaterThan(0);
    expect(compareIds('9-10', '9-9')).toBeGreaterThan(0);
    expect(compareIds('9-1', '9-1')).toBe(0);
  });
});
