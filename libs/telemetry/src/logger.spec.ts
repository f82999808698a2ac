// The lines a process writes just before it exits (the crash cause, "shutdown complete") are the
// ones an operator needs most. A real child process logs through createLogger into a real pipe
// whose reader is slow (a busy log collector, or a busy test runner), then exits: every line
// must arrive, in the order it was logged.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const CHILD = `
const { createLogger } = require(${JSON.stringify(join(__dirname, 'logger'))});
const log = createLogger('logger-spec');
for (let i = 0; i < 2000; i++) log.info({ i, pad: 'x'.repeat(100) }, 'bulk');
log.error('crash line');
setTimeout(() => { log.info('shutdown complete'); process.exit(70); }, 300);
`;

function runChild(readAfterMs: number): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', CHILD], {
    cwd: join(__dirname, '../../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  // Nobody reads the pipe for a while: it fills up, as behind a slow reader.
  child.stdout.pause();
  const timer = setTimeout(() => {
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout.resume();
  }, readAfterMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split('\n').filter(Boolean) });
    });
  });
}

describe('createLogger', () => {
  it('loses no line and keeps their order when the process exits behind a slow reader', async () => {
    const { code, lines } = await runChild(1_500);
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string; i?: number }).msg);
    const bulk = lines.map((l) => (JSON.parse(l) as { i?: number }).i).filter((i) => i !== undefined);
    expect(code).toBe(70);
    expect(bulk).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(msgs.slice(-2)).toEqual(['crash line', 'shutdown complete']);
  }, 30_000);
});
