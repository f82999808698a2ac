// A mapping set from a YAML file (or a list), for running an invalidator without Kafka-backed
// mappings (local runs, tests, air-gapped setups). Same surface as MappingStore: current() and
// onChange(); reload() re-reads the file and swaps the resolver only if the new file is valid.
// The file may declare keyspaces (`keyspaces:` next to `mappings:`, keyspaces-yaml.ts); they are
// enforced exactly as the topic's: a mapping outside its owner's keyspaces is kept but marked,
// and every event it matches is refused (FOREIGN_KEYSPACE, dead-lettered by the invalidator).
// Its `sources:` (CDC source declarations) are checked against the same keyspaces: a declaration
// outside its owner's topic or entity type has its topic's records refused.
import type { Logger } from '@app/telemetry';
import { RegistryError } from '../errors';
import { KeyspaceRecord, Keyspaces } from '../keyspace/keyspaces';
import { RegistryLimitsInput, registryLimits, RegistryLimits } from '../limits';
import { MappingSetResolver } from '../resolver/mapping-set-resolver';
import { CdcSources } from '../source/cdc-sources';
import type { CdcSourceDeclaration } from '../source/source-declaration';
import type { Mapping } from '../types';
import type { UrlAllowLists } from '../mapping/compile-mapping';
import { loadMappingsDocumentFile, MappingsDocument } from '../yaml/mappings-yaml';
import type { MappingChangeListener, MappingSource } from './mapping-source';

export interface StaticMappingSourceOptions {
  limits?: RegistryLimitsInput;
  logger?: Logger;
  /**
   * KEYSPACES_REQUIRED: a file with mappings but no keyspace declared is refused (RegistryError
   * KEYSPACES_REQUIRED) instead of letting every mapping write any key.
   */
  keyspacesRequired?: boolean;
  /** LOADER_ALLOWED_HOSTS / PURGE_ALLOWED_HOSTS: a mapping naming another internal host has its part of every event refused. */
  allowedHosts?: UrlAllowLists;
}

export class StaticMappingSource implements MappingSource {
  private resolver: MappingSetResolver;
  private sourceView: CdcSources;
  private readonly listeners = new Set<MappingChangeListener>();

  private constructor(
    document: MappingsDocument,
    private readonly limits: RegistryLimits,
    private readonly path?: string,
    private readonly logger?: Logger,
    private readonly keyspacesRequired = false,
    private readonly allowedHosts?: UrlAllowLists,
  ) {
    this.resolver = this.compile(document);
    this.sourceView = this.sourcesOf(document);
    this.logForeign();
  }

  /** Reads and checks the file now; throws a RegistryError (YAML_INVALID, MAPPING_INVALID, TEMPLATE_*, FANOUT_LIMIT, KEYSPACE_*) when it is wrong. */
  static fromYamlFile(path: string, options: StaticMappingSourceOptions = {}): StaticMappingSource {
    const limits = registryLimits(options.limits);
    return new StaticMappingSource(
      loadMappingsDocumentFile(path, limits),
      limits,
      path,
      options.logger,
      options.keyspacesRequired,
      options.allowedHosts,
    );
  }

  static fromMappings(
    mappings: Mapping[],
    options: StaticMappingSourceOptions & { keyspaces?: KeyspaceRecord[]; sources?: CdcSourceDeclaration[] } = {},
  ): StaticMappingSource {
    return new StaticMappingSource(
      { mappings, keyspaces: options.keyspaces, sources: options.sources },
      registryLimits(options.limits),
      undefined,
      options.logger,
      options.keyspacesRequired,
      options.allowedHosts,
    );
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  isReady(): boolean {
    return true;
  }

  current(): MappingSetResolver {
    return this.resolver;
  }

  /** The file's CDC source declarations (checked against its keyspaces). */
  sources(): CdcSources {
    return this.sourceView;
  }

  /** The keyspaces the file declares (none: not enforced). */
  keyspaces(): Keyspaces {
    return this.resolver.keyspaces;
  }

  onChange(listener: MappingChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads the file; on error the previous set stays in effect and the error is thrown. */
  reload(): MappingSetResolver {
    if (!this.path) return this.resolver;
    const document = loadMappingsDocumentFile(this.path, this.limits);
    const before = new Map(this.resolver.mappings().map((m) => [m.id, JSON.stringify(m)]));
    this.resolver = this.compile(document);
    this.sourceView = this.sourcesOf(document);
    const after = new Map(document.mappings.map((m) => [m.id, JSON.stringify(m)]));
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((id) => before.get(id) !== after.get(id));
    this.logger?.info(
      { path: this.path, changed, mappings: this.resolver.mappingCount, keyspaces: this.resolver.keyspaces.size },
      'mapping file reloaded',
    );
    this.logForeign();
    for (const listener of this.listeners) listener(this.resolver, changed);
    return this.resolver;
  }

  private compile(document: MappingsDocument): MappingSetResolver {
    const keyspaces = new Keyspaces(document.keyspaces ?? []);
    if (this.keyspacesRequired && !keyspaces.enforced && (document.mappings.length > 0 || (document.sources?.length ?? 0) > 0)) {
      throw new RegistryError(
        'KEYSPACES_REQUIRED',
        `${this.path ?? 'mapping list'} declares no keyspace and KEYSPACES_REQUIRED=true: add a "keyspaces:" section (prefixes and entity types per team, as in examples/keyspaces.yaml) or set KEYSPACES_REQUIRED=false`,
        'keyspaces',
      );
    }
    // Mappings are checked strictly (a bad file is refused whole); keyspace violations only mark
    // the mapping, as on the topic, so its events are dead-lettered with the reason.
    return MappingSetResolver.compile(document.mappings, {
      limits: this.limits,
      mode: 'strict',
      keyspaces,
      allowedHosts: this.allowedHosts,
    });
  }

  private sourcesOf(document: MappingsDocument): CdcSources {
    return new CdcSources(document.sources ?? [], { keyspaces: this.resolver.keyspaces });
  }

  private logForeign(): void {
    for (const { topic, code, message } of this.sourceView.refused()) {
      this.logger?.error(
        { path: this.path, source: topic, code, err: message },
        "source declaration outside its owner team's keyspaces: its topic's records are refused",
      );
    }
    for (const { id, error } of this.resolver.foreignMappings()) {
      this.logger?.error(
        { path: this.path, id, code: error.code, err: error.message },
        "mapping outside its owner team's keyspaces: events it matches are refused",
      );
    }
  }
}
