// Varnish (xkey) for the e2e tests that need an HTTP cache: started lazily in front of one
// backend, recorded in the stack's state.json (stopped by `down` if a test forgets), bounded start.
import { startStackVarnish, stopStackVarnish } from '../../scripts/stack/stack';
import type { VarnishInfo } from '../../scripts/stack/varnish';

export interface TestVarnish {
  url: string;
  info: VarnishInfo;
  stop(): Promise<void>;
}

export async function startTestVarnish(backendPort: number, timeoutMs = 30_000): Promise<TestVarnish> {
  const stack = process.env.STACK_NAME;
  if (!stack) throw new Error('STACK_NAME is not set (run through jest --selectProjects e2e)');
  const info = await startStackVarnish(stack, `127.0.0.1:${backendPort}`, timeoutMs);
  return { url: `http://127.0.0.1:${info.port}`, info, stop: () => stopStackVarnish(stack, info) };
}
