// The registry's part of the source declaration rules that runs without Kafka: the team check
// (a team changes only its own declarations, in its own name), KEYSPACES_REQUIRED for team
// writes, and the request pipe that refuses object internals before class-transformer sees them.
import type { ArgumentMetadata } from '@nestjs/common';
import { CdcSourceDeclaration, Keyspaces, planSourceWrite, RegistryError } from '@app/registry-core';
import type { Principal } from '../auth/team-tokens';
import { requestValidationPipe } from '../http/registry-errors';
import { assertKeyspacesDeclared } from '../mappings/mappings.service';
import { PutSourceDto } from './sources.dto';
import { authorizeSource } from './sources.service';

const TOPIC = 'cdc.catalog.public.catalog_products';
const principal = (team: string): Principal => ({ team, tokenId: `${team}#1` });
const declaration = (owner = 'catalog'): CdcSourceDeclaration => ({
  topic: TOPIC,
  owner,
  entityType: 'product',
  idColumns: ['id'],
  fields: {},
  numericColumns: [],
  excludeColumns: [],
  version: 0,
});
const stored = new Map([[TOPIC, { ...declaration(), version: 1 }]]);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof RegistryError) return error.code;
    throw error;
  }
  return 'none';
}

describe('source declarations in the registry: hostile team', () => {
  const plan = (team: string, intent: Parameters<typeof planSourceWrite>[1][number], current = stored) =>
    planSourceWrite(current, [intent], { keyspaces: Keyspaces.NONE, authorize: (c) => authorizeSource(principal(team), c) });

  it("a team can neither take over, rewrite nor delete another team's declaration, nor write one in its name", () => {
    expect(codeOf(() => plan('promo', { op: 'put', source: declaration('promo') }))).toBe('WRONG_TEAM');
    expect(codeOf(() => plan('promo', { op: 'put', source: { ...declaration(), excludeColumns: ['x'] } }))).toBe('WRONG_TEAM');
    expect(codeOf(() => plan('promo', { op: 'delete', topic: TOPIC }))).toBe('WRONG_TEAM');
    expect(codeOf(() => plan('promo', { op: 'put', source: declaration('catalog') }, new Map()))).toBe('WRONG_TEAM');
  });

  it('the owner and an admin may change it', () => {
    expect(plan('catalog', { op: 'put', source: { ...declaration(), excludeColumns: ['x'] } }).changes).toHaveLength(1);
    expect(plan('*', { op: 'delete', topic: TOPIC }).changes).toHaveLength(1);
  });

  it('KEYSPACES_REQUIRED: a team may not declare sources until an admin declares keyspaces; an admin may', () => {
    const none = { keyspaces: () => Keyspaces.NONE };
    expect(codeOf(() => assertKeyspacesDeclared({ KEYSPACES_REQUIRED: true }, none, principal('catalog'), 'source declarations'))).toBe(
      'KEYSPACES_REQUIRED',
    );
    expect(codeOf(() => assertKeyspacesDeclared({ KEYSPACES_REQUIRED: true }, none, principal('*'), 'source declarations'))).toBe('none');
    expect(codeOf(() => assertKeyspacesDeclared({ KEYSPACES_REQUIRED: false }, none, principal('catalog'), 'source declarations'))).toBe(
      'none',
    );
  });

  it('a body naming "constructor" or "__proto__" as a key is 400 naming the field, not a 500 (class-transformer throws on the first, drops the second)', async () => {
    const pipe = requestValidationPipe();
    const metadata: ArgumentMetadata = { type: 'body', metatype: PutSourceDto };
    const body = (fields: string) =>
      JSON.parse(`{"owner":"catalog","entityType":"product","idColumns":["id"],"fields":${fields}}`) as unknown;
    for (const [fields, field] of [
      ['{"constructor":"x"}', 'fields.constructor'],
      ['{"__proto__":"x"}', 'fields.__proto__'],
    ]) {
      const refused = await pipe.transform(body(fields), metadata).then(
        () => undefined,
        (error: { getStatus(): number; getResponse(): { code: string; field: string } }) => error,
      );
      expect(refused?.getStatus()).toBe(400);
      expect(refused?.getResponse()).toMatchObject({ code: 'REQUEST_INVALID', field });
    }
    await expect(pipe.transform(body('{"category_id":"categoryId"}'), metadata)).resolves.toBeInstanceOf(PutSourceDto);
  });
});
