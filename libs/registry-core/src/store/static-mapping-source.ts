// A mapping set from a YAML file (or a list), for running an invalidator without Kafka-backed
// mappings (local runs, tests, air-gapped setups). Same surface as MappingStore: current() and
// onChange(); reload() re-reads the file and swaps the resolver only if the new file is valid.
import type { Logger } from '@app/telemetry';
import { RegistryLimitsInput, registryLimits, RegistryLimits } from '../limits';
import { MappingSetResolver } from '../resolver/mapping-set-resolver';
import type { Mapping } from '../types';
import type { UrlAllowLists } from '../mapping/compile-mapping';
import { loadMappingsYamlFile } from '../yaml/mappings-yaml';
import type { MappingChangeListener, MappingSource } from './mapping-source';

export interface StaticMappingSourceOptions {
  limits?: RegistryLimitsInput;
  logger?: Logger;
  /** LOADER_ALLOWED_HOSTS / PURGE_ALLOWED_HOSTS: a mapping naming another internal host has its part of every event refused. */
  allowedHosts?: UrlAllowLists;
}

export class StaticMappingSource implements MappingSource {
  private resolver: MappingSetResolver;
  private readonly listeners = new Set<MappingChangeListener>();

  private constructor(
    mappings: Mapping[],
    private readonly limits: RegistryLimits,
    private readonly path?: string,
    private readonly logger?: Logger,
    private readonly allowedHosts?: UrlAllowLists,
  ) {
    this.resolver = MappingSetResolver.compile(mappings, { limits, mode: 'strict', allowedHosts });
  }

  /** Reads and checks the file now; throws a RegistryError (YAML_INVALID, MAPPING_INVALID, TEMPLATE_*, FANOUT_LIMIT) when it is wrong. */
  static fromYamlFile(path: string, options: StaticMappingSourceOptions = {}): StaticMappingSource {
    const limits = registryLimits(options.limits);
    return new StaticMappingSource(loadMappingsYamlFile(path, limits), limits, path, options.logger, options.allowedHosts);
  }

  static fromMappings(mappings: Mapping[], options: StaticMappingSourceOptions = {}): StaticMappingSource {
    return new StaticMappingSource(mappings, registryLimits(options.limits), undefined, options.logger, options.allowedHosts);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  isReady(): boolean {
    return true;
  }

  current(): MappingSetResolver {
    return this.resolver;
  }

  onChange(listener: MappingChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads the file; on error the previous set stays in effect and the error is thrown. */
  reload(): MappingSetResolver {
    if (!this.path) return this.resolver;
    const mappings = loadMappingsYamlFile(this.path, this.limits);
    const before = new Map(this.resolver.mappings().map((m) => [m.id, JSON.stringify(m)]));
    this.resolver = MappingSetResolver.compile(mappings, { limits: this.limits, mode: 'strict', allowedHosts: this.allowedHosts });
    const after = new Map(mappings.map((m) => [m.id, JSON.stringify(m)]));
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((id) => before.get(id) !== after.get(id));
    this.logger?.info({ path: this.path, changed, mappings: this.resolver.mappingCount }, 'mapping file reloaded');
    for (const listener of this.listeners) listener(this.resolver, changed);
    return this.resolver;
  }
}
