// What an invalidator holds of the source declarations: per change topic, the declaration its
// records are decoded with, or why that topic's records are refused. Rebuilt whole on every
// change of a declaration or of the keyspaces (like the compiled resolver), read per chunk.
// The owner checks run here too, so a declaration that reached the topic outside the registry
// (written by hand, by an old registry) never reads another team's table: its topic's records
// are dead-lettered naming the reason, and every other topic goes on.
import { Keyspaces, sourceViolationMessage } from '../keyspace/keyspaces';
import type { CdcSourceDeclaration } from './source-declaration';

/** Why a topic's records cannot be decoded; the invalidator dead-letters them with `code`. */
export interface CdcSourceRefusal {
  code: 'CDC_NO_SOURCE' | 'FOREIGN_KEYSPACE' | 'KEYSPACES_REQUIRED';
  message: string;
}

export type CdcSourceLookup = { source: CdcSourceDeclaration } | CdcSourceRefusal;

export interface CdcSourcesOptions {
  keyspaces: Keyspaces;
  /** KEYSPACES_REQUIRED: while no keyspace is declared, no team's declaration is trusted. */
  keyspacesRequired?: boolean;
}

export class CdcSources {
  private readonly byTopic: ReadonlyMap<string, CdcSourceDeclaration>;
  private readonly lookups = new Map<string, CdcSourceLookup>();

  constructor(declarations: Iterable<CdcSourceDeclaration> = [], options: CdcSourcesOptions = { keyspaces: Keyspaces.NONE }) {
    this.byTopic = new Map([...declarations].map((d) => [d.topic, d]));
    const { keyspaces, keyspacesRequired } = options;
    for (const [topic, source] of this.byTopic) {
      if (keyspacesRequired && !keyspaces.enforced) {
        this.lookups.set(topic, {
          code: 'KEYSPACES_REQUIRED',
          message: `source "${topic}" (owner "${source.owner}"): no keyspace is declared and KEYSPACES_REQUIRED=true, so no team's source declaration is applied until an admin declares keyspaces (topic grants included)`,
        });
        continue;
      }
      const violations = keyspaces.sourceViolations(source);
      this.lookups.set(
        topic,
        violations.length > 0 ? { code: 'FOREIGN_KEYSPACE', message: sourceViolationMessage(source, violations) } : { source },
      );
    }
  }

  static readonly NONE = new CdcSources();

  get size(): number {
    return this.byTopic.size;
  }

  /** The declaration of `topic` to decode its records with, or why its records are refused. */
  lookup(topic: string): CdcSourceLookup {
    return (
      this.lookups.get(topic) ?? {
        code: 'CDC_NO_SOURCE',
        message: `topic "${topic}" has no source declaration in the registry (its owner team declares it: PUT /sources/${topic}, or "sources:" in its file); replay once declared`,
      }
    );
  }

  get(topic: string): CdcSourceDeclaration | undefined {
    return this.byTopic.get(topic);
  }

  list(): CdcSourceDeclaration[] {
    return [...this.byTopic.values()].sort((a, b) => (a.topic < b.topic ? -1 : 1));
  }

  /** Declarations whose topic's records are refused (FOREIGN_KEYSPACE, KEYSPACES_REQUIRED), for a log line. */
  refused(): { topic: string; code: CdcSourceRefusal['code']; message: string }[] {
    const out: { topic: string; code: CdcSourceRefusal['code']; message: string }[] = [];
    for (const [topic, lookup] of this.lookups) if ('code' in lookup) out.push({ topic, ...lookup });
    return out;
  }
}
