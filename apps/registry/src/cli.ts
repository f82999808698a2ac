// Process entry of the mappings CLI: `npm run mappings -- <list|apply|diff|explain> ...`.
// Exit codes: 0 ok, 1 error, 2 bad usage, 3 diff found (cli/exit-codes.ts; docs/registry.md, "CLI (GitOps)").
import { runCliProcess } from '@app/config/cli-process';
import { runCli } from './cli/run-cli';

runCliProcess('mappings', runCli);
