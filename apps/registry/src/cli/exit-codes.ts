// The CLI's exit codes (docs/registry.md, "CLI (GitOps)"): scripts and CI branch on these.
export const EXIT = {
  /** Done; for `diff`: no difference. For `explain`: the event resolves (or no mapping matches). */
  OK: 0,
  /** Something failed: the registry refused (4xx/5xx) or is unreachable, an invalid YAML/event file, or `explain` says the event would be dead-lettered. */
  ERROR: 1,
  /** Bad usage: unknown command/option, missing argument, file not found, REGISTRY_TOKEN unset. */
  USAGE: 2,
  /** `diff` only: the file differs from the registry. */
  DIFF_FOUND: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
