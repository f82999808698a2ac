// The invalidator's Node heap flags as shipped: docker/compose.yml sets them as the invalidator
// service's NODE_OPTIONS (heap.spec.ts keeps the two equal), and the bench runs the compiled
// invalidator with them unless BENCH_NODE_ARGS says otherwise, so its RSS and CPU figures are
// those of the shipped setting.
export const SHIPPED_NODE_ARGS = '--max-old-space-size=160 --max-semi-space-size=16';

/**
 * The flags the bench gives the invalidator: BENCH_NODE_ARGS when set ("" = V8's defaults), else
 * the shipped ones for the compiled JS. ts-node keeps the TypeScript compiler in the heap, which
 * the shipped cap is not sized for: V8's defaults there.
 */
export function benchNodeArgs(env: NodeJS.ProcessEnv, compiled: boolean): string[] {
  const args = env.BENCH_NODE_ARGS ?? (compiled ? SHIPPED_NODE_ARGS : '');
  return args.split(' ').filter(Boolean);
}
