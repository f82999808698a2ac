// The process entry of a command-line tool (`npm run mappings`, `npm run dlq`): the tool runs on
// the real environment, stdout and stderr, and its answer becomes the exit code. An error the
// tool did not turn into an exit code is printed as `<name>: <error>` and exits 1.

/** What a command-line tool reads and writes; tests pass their own to capture the output. */
export interface CliIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
}

export function runCliProcess(name: string, run: (argv: string[], io: CliIo) => Promise<number>): void {
  run(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${name}: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
