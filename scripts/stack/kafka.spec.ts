import { clusterId } from './kafka';

describe('kafka cluster id', () => {
  it('never starts with "-" (kafka-storage would read it as an option and refuse to format)', () => {
    // base64url starts with '-' once in 64 ids: 20,000 ids would hit it ~300 times
    for (let i = 0; i < 20_000; i += 1) {
      const id = clusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
  });
});
