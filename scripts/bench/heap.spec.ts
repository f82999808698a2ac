import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { benchNodeArgs, SHIPPED_NODE_ARGS } from './heap';

describe('the invalidator heap setting', () => {
  it('is the same in docker/compose.yml and in the bench, so the bench measures what ships', () => {
    const compose = parse(readFileSync(join(__dirname, '..', '..', 'docker', 'compose.yml'), 'utf8')) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    expect(compose.services.invalidator.environment?.NODE_OPTIONS).toBe(SHIPPED_NODE_ARGS);
  });

  it('BENCH_NODE_ARGS replaces it ("" = V8 defaults); ts-node runs get V8 defaults', () => {
    expect(benchNodeArgs({}, true)).toEqual(SHIPPED_NODE_ARGS.split(' '));
    expect(benchNodeArgs({}, false)).toEqual([]);
    expect(benchNodeArgs({ BENCH_NODE_ARGS: '' }, true)).toEqual([]);
    expect(benchNodeArgs({ BENCH_NODE_ARGS: '--max-old-space-size=256 --trace-gc' }, true)).toEqual([
      '--max-old-space-size=256',
      '--trace-gc',
    ]);
  });
});
