// Red-team cases for decoding with a team's source declaration from the registry: a dead letter's
// reason must send the team to what it can change (its declaration), not to an operator's setting
// the deployment does not have.
import type { InboundMessage } from '@app/kafka';
import { CdcSource, CdcSourceFor, decodeDebezium } from './decode-debezium';

const TOPIC = 'cdc.catalog.public.catalog_products';

const DECLARED: CdcSource = {
  entityType: 'product',
  idColumns: ['id'],
  versionColumn: 'version',
  fields: { category_id: 'name' },
  numericColumns: [],
  excludeColumns: [],
};

let offset = 0;
function record(value: unknown): InboundMessage {
  return {
    topic: TOPIC,
    partition: 0,
    offset: String(offset++),
    key: Buffer.from('{"id":"p-1"}'),
    value: Buffer.from(JSON.stringify(value)),
    headers: {},
    timestamp: 0,
  };
}

const row = (version: number) => ({ id: 'p-1', name: 'Mug', category_id: 'kitchen', version });
const source = { schema: 'public', table: 'catalog_products', lsn: 26559320, ts_ms: 1796599176649 };
const registry: CdcSourceFor = (topic) =>
  topic === TOPIC ? { source: DECLARED } : { code: 'CDC_NO_SOURCE', message: `topic "${topic}" has no source declaration` };

describe('decodeDebezium with registry declarations: red team', () => {
  it('a dead letter caused by the declaration names the declaration field, not a CDC_* setting the deployment does not use', () => {
    const r = decodeDebezium(
      [
        record({ before: null, after: row(1), source, op: 'c' }),
        record({ before: { ...row(4), category_id: 'a' }, after: { ...row(4), category_id: 'b' }, source, op: 'u' }),
      ],
      { maxEventBytes: 65_536, source: registry },
    );
    expect(r.rejected.map((x) => x.code)).toEqual(['BAD_SCHEMA', 'CDC_VERSION_NOT_INCREASED']);
    expect(r.rejected[0].reason).toMatch(/"fields" of the source declaration of .*catalog_products.* renames category_id onto name/);
    expect(r.rejected[1].reason).toMatch(/"versionColumn" of the source declaration/);
    for (const x of r.rejected) expect(x.reason).not.toMatch(/CDC_/);
    // The operator's settings still name their variables.
    const env = decodeDebezium([record({ before: null, after: row(1), source, op: 'c' })], { maxEventBytes: 65_536, source: DECLARED });
    expect(env.rejected[0].reason).toMatch(/CDC_FIELDS renames category_id onto name/);
  });
});
