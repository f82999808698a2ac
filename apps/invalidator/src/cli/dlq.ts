// Process entry of the dead-letter tool: `npm run dlq -- <list|replay> [filters]`.
// Exit codes: 0 ok, 1 error, 2 bad usage (dlq-cli.ts; docs/operations.md, "`npm run dlq`").
import { runDlqCli } from './dlq-cli';

runDlqCli(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`dlq: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
