// Errors of the lag monitor, each with a stable code (documented in docs/lag.md, "Errors").

export class LagConfigError extends Error {
  readonly code = 'LAG_CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid lag monitor options:\n  - ${problems.join('\n  - ')}`);
    this.name = 'LagConfigError';
  }
}
