// Bearer tokens scoped to teams, from REGISTRY_TOKENS ("token=team[:name],...", team "*" = admin).
// Tokens are kept only as SHA-256 digests in memory; the audit records the team, the optional name
// and a token id taken from the configuration (the name, or "<team>#<n>" = the team's n-th token
// entry), never the token nor anything derived from it (a digest prefix would let anyone who
// reads the audit test guesses of weak tokens offline).
import { createHash } from 'node:crypto';
import { SAFE_ID_PATTERN } from '@app/contracts';
import { RegistryError } from '@app/registry-core';

export const ADMIN_TEAM = '*';

export interface Principal {
  /** The team the token acts for, or "*" (admin: may change every team's mappings). */
  team: string;
  /** Who, when the token entry names someone ("token=catalog:alice"). */
  name?: string;
  /** Tells tokens apart in the audit without anything derived from the secret: the entry's name, else "<team>#<n>" (n-th entry of that team). */
  tokenId: string;
}

function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Throws an Error whose message says which entry is wrong (never echoing the token). */
export function parseTeamTokens(spec: string): Map<string, Principal> {
  const table = new Map<string, Principal>();
  const perTeam = new Map<string, number>();
  spec
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .forEach((entry, i) => {
      const eq = entry.lastIndexOf('=');
      const token = eq > 0 ? entry.slice(0, eq) : '';
      const [team, name] = (eq > 0 ? entry.slice(eq + 1) : '').split(':');
      if (!token || /\s/.test(token)) throw new Error(`entry ${i + 1} must look like token=team (no whitespace in the token)`);
      if (team !== ADMIN_TEAM && !SAFE_ID_PATTERN.test(team ?? ''))
        throw new Error(`entry ${i + 1}: team must be "*" or match ${SAFE_ID_PATTERN.source}`);
      if (name !== undefined && !SAFE_ID_PATTERN.test(name)) throw new Error(`entry ${i + 1}: name must match ${SAFE_ID_PATTERN.source}`);
      const hash = digest(token);
      if (table.has(hash)) throw new Error(`entry ${i + 1} repeats a token of an earlier entry`);
      const n = (perTeam.get(team) ?? 0) + 1;
      perTeam.set(team, n);
      table.set(hash, { team, name, tokenId: name ?? `${team}#${n}` });
    });
  if (table.size === 0) throw new Error('no token=team entries');
  return table;
}

export class TeamTokens {
  private readonly table: Map<string, Principal>;

  constructor(spec: string) {
    this.table = parseTeamTokens(spec);
  }

  /** The principal of a bearer token, or undefined when the token is unknown. */
  principalOf(token: string): Principal | undefined {
    return this.table.get(digest(token));
  }
}

export function isAdmin(principal: Principal): boolean {
  return principal.team === ADMIN_TEAM;
}

/** How the principal appears in `updatedBy` and the audit. */
export function actorName(principal: Principal): string {
  return principal.name ? `${principal.team}:${principal.name}` : principal.team;
}

/**
 * The team rule of every team-owned record (mappings, source declarations): a team token may
 * change only records its team owns, and may only write records naming its team as owner.
 * Admin tokens may act for any team. Throws RegistryError WRONG_TEAM (field "owner").
 */
export function assertOwnTeam(
  principal: Principal,
  what: string,
  change: { before?: { owner: string }; after?: { owner: string } },
  kind = what.split(' ')[0],
): void {
  if (isAdmin(principal)) return;
  if (change.before && change.before.owner !== principal.team) {
    throw new RegistryError(
      'WRONG_TEAM',
      `${what} belongs to team "${change.before.owner}"; team "${principal.team}" may not change it`,
      'owner',
    );
  }
  if (change.after && change.after.owner !== principal.team) {
    throw new RegistryError(
      'WRONG_TEAM',
      `team "${principal.team}" may only write ${kind}s it owns (${what} names owner "${change.after.owner}")`,
      'owner',
    );
  }
}
