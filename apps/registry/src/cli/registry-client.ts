// A small HTTP client of the registry API for the CLI (Node's fetch; no extra dependency).
import type {
  CdcSourceDeclaration,
  EntityTypeOwnership,
  Explanation,
  Mapping,
  MappingSetDiff,
  PrefixOwnership,
  SourceChange,
  TeamHosts,
  TopicOwnership,
} from '@app/registry-core';
import { CliError, EXIT } from './exit-codes';

export interface ApplyRequest {
  mappings: Mapping[];
  prune?: boolean;
  pruneOwners?: string[];
  dryRun?: boolean;
}

export interface KeyspacesListing {
  enforced: boolean;
  /** KEYSPACES_REQUIRED of the registry (absent from older registries). */
  required?: boolean;
  prefixes: PrefixOwnership[];
  entityTypes: EntityTypeOwnership[];
  /** Absent from registries older than team records. */
  teams?: TeamHosts[];
  /** Absent from registries older than source declarations. */
  topics?: TopicOwnership[];
}

export interface SourcesApplyRequest {
  sources: CdcSourceDeclaration[];
  prune?: boolean;
  pruneOwners?: string[];
  dryRun?: boolean;
}

export interface KeyspacesApplyRequest {
  prefixes: { prefix: string; team: string }[];
  entityTypes: { entityType: string; team: string; grants?: string[] }[];
  teams?: { team: string; loaderHosts?: string[]; purgeHosts?: string[]; surrogateKeyPrefixes?: string[] }[];
  topics?: { topic: string; team: string }[];
  dryRun?: boolean;
}

export class RegistryClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async list(query: { entityType?: string; owner?: string } = {}): Promise<Mapping[]> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    const body = await this.call<{ mappings: Mapping[] }>('GET', `/mappings${params.size > 0 ? `?${params.toString()}` : ''}`);
    return body.mappings;
  }

  apply(request: ApplyRequest): Promise<{ dryRun: boolean; diff: MappingSetDiff }> {
    return this.call('POST', '/mappings/apply', request);
  }

  async sources(query: { owner?: string; entityType?: string } = {}): Promise<CdcSourceDeclaration[]> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    const body = await this.call<{ sources: CdcSourceDeclaration[] }>('GET', `/sources${params.size > 0 ? `?${params.toString()}` : ''}`);
    return body.sources;
  }

  applySources(request: SourcesApplyRequest): Promise<{ dryRun: boolean; changes: SourceChange[]; unchanged: string[] }> {
    return this.call('POST', '/sources/apply', request);
  }

  explain(event: unknown): Promise<Explanation> {
    return this.call('POST', '/explain', { event });
  }

  keyspaces(): Promise<KeyspacesListing> {
    return this.call('GET', '/keyspaces');
  }

  /** Admin token only. */
  applyKeyspaces(
    request: KeyspacesApplyRequest,
  ): Promise<{ dryRun: boolean; changes: { key: string; kind: string }[]; unchanged: string[] }> {
    return this.call('POST', '/keyspaces/apply', request);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      // fetch's own message is just "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND)
      const why: unknown = (error as Error).cause ?? (error as Error).message;
      throw new CliError(EXIT.ERROR, `cannot reach the registry at ${url}: ${String(why)} (set REGISTRY_URL)`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const problem = parsed as { code?: string; message?: string; field?: string } | undefined;
      const what = problem?.code ? `${problem.code}${problem.field ? ` at ${problem.field}` : ''}: ${problem.message}` : text.slice(0, 500);
      throw new CliError(EXIT.ERROR, `registry refused ${method} ${path} (HTTP ${response.status}) ${what}`);
    }
    return parsed as T;
  }
}
