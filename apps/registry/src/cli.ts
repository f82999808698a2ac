// Process entry of the mappings CLI: `npm run mappings -- <list|apply|diff|explain> ...`.
// Exit codes: 0 ok, 1 error, 2 bad usage, 3 diff found (cli/exit-codes.ts; docs/registry.md, "CLI (GitOps)").
import { runCli } from './cli/run-cli';

runCli(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
}).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`mappings: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
