// The caps every compiled mapping set enforces. The registry and every invalidator should run
// with the same values (the registry refuses at write time what the invalidator would refuse
// per event).
import { DEFAULT_TEMPLATE_LIMITS, TemplateLimits } from './template/key-template';

export interface RegistryLimits {
  /** Most keys + tags + namespaces + purge URLs one event may resolve to (all matching mappings together). Default 64. */
  fanoutCap: number;
  /** Tombstone/version-guard TTL when a rule sets none. Default 86400, the invalidator's TOMBSTONE_TTL_SECONDS default. */
  defaultTombstoneTtlSeconds: number;
  template: TemplateLimits;
}

/** The highest fan-out cap the registry's and the invalidator's FANOUT_CAP accept. */
export const MAX_FANOUT_CAP = 10_000;

/** fanoutCap: the one default of the registry's and the invalidator's FANOUT_CAP. */
export const DEFAULT_REGISTRY_LIMITS: RegistryLimits = {
  fanoutCap: 64,
  defaultTombstoneTtlSeconds: 86_400,
  template: DEFAULT_TEMPLATE_LIMITS,
};

export type RegistryLimitsInput = Partial<Omit<RegistryLimits, 'template'>> & { template?: Partial<TemplateLimits> };

export function registryLimits(input: RegistryLimitsInput = {}): RegistryLimits {
  return {
    fanoutCap: input.fanoutCap ?? DEFAULT_REGISTRY_LIMITS.fanoutCap,
    defaultTombstoneTtlSeconds: input.defaultTombstoneTtlSeconds ?? DEFAULT_REGISTRY_LIMITS.defaultTombstoneTtlSeconds,
    template: { ...DEFAULT_TEMPLATE_LIMITS, ...input.template },
  };
}
