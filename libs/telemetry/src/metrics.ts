// One prom-client registry per process; every module registers its metrics here.
import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

export function metricsRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
