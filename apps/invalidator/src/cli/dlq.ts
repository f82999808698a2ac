// Process entry of the dead-letter tool: `npm run dlq -- <list|replay> [filters]`.
// Exit codes: 0 ok, 1 error, 2 bad usage (dlq-cli.ts; docs/operations.md, "`npm run dlq`").
import { runCliProcess } from '@app/config/cli-process';
import { runDlqCli } from './dlq-cli';

runCliProcess('dlq', runDlqCli);
