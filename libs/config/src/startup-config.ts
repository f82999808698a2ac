// The config step of every app's main.ts: load the config, print one line per deprecation
// warning (an old variable name still read), and on a ConfigError print every problem and exit
// 78 (EX_CONFIG) before anything starts.
import { ConfigError, configWarnings } from './read-config';

export const EX_CONFIG = 78;

export interface StartupIo {
  err(text: string): void;
  exit(code: number): never;
}

const processIo: StartupIo = {
  err: (text) => process.stderr.write(`${text}\n`),
  exit: (code) => process.exit(code),
};

/** `app` prefixes every line (`registry: warning: REGISTRY_PORT is deprecated: ...`); errors other than ConfigError are rethrown. */
export function loadConfigOrExit<T extends object>(app: string, load: () => T, io: StartupIo = processIo): T {
  let config: T;
  try {
    config = load();
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`${app}: ${error.message}`);
      return io.exit(EX_CONFIG);
    }
    throw error;
  }
  for (const warning of configWarnings(config)) io.err(`${app}: warning: ${warning}`);
  return config;
}
