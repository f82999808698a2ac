// OpenAPI for the DTO classes of @app/registry-core. The lib stays free of Nest/Swagger, so the
// @ApiProperty metadata is attached here, once, to the very classes the ValidationPipe uses.
import { INestApplication } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptions, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  KEY_ACTIONS,
  KeyRuleDto,
  MappingDto,
  MappingSpecDto,
  MAX_NAMESPACES_PER_MAPPING,
  MAX_PURGE_URLS_PER_MAPPING,
  MAX_RULES_PER_MAPPING,
  MAX_TTL_SECONDS,
  MAX_CDC_COLUMNS,
  MAX_CDC_ID_COLUMNS,
  PurgeRuleDto,
  SourceDto,
  SourceSpecDto,
} from '@app/registry-core';

let documented = false;

function describe(cls: abstract new () => unknown, properties: Record<string, ApiPropertyOptions>): void {
  for (const [name, options] of Object.entries(properties)) ApiProperty(options)(cls.prototype as object, name);
}

export function documentRegistryDtos(): void {
  if (documented) return;
  documented = true;
  describe(KeyRuleDto, {
    template: {
      example: 'category:{after.categoryId}:products',
      description: 'Segments separated by ":"; placeholders {entityId} {entityType} {tenant} {version} {after.<field>} {before.<field>}',
    },
    action: { enum: KEY_ACTIONS as string[], example: 'delete' },
    ttlSeconds: { required: false, minimum: 1, maximum: MAX_TTL_SECONDS, description: 'warm only: TTL of the rewritten value' },
    tombstoneTtlSeconds: {
      required: false,
      minimum: 1,
      maximum: MAX_TTL_SECONDS,
      description: 'how long the version guard lives (default from the registry config)',
    },
    warmFrom: {
      required: false,
      description: 'warm only: "after" (the event\'s after object, the default) or { loaderUrl } (a URL template)',
      oneOf: [
        { type: 'string', enum: ['after'] },
        {
          type: 'object',
          properties: {
            loaderUrl: {
              type: 'string',
              example: 'https://catalog.internal/products/{entityId}',
              description:
                'scheme, host and port literal (a value may only fill path/query segments; values URL-encoded); the response carries the version in X-Entity-Version or a JSON field "version"',
            },
          },
          required: ['loaderUrl'],
        },
      ],
    },
  });
  describe(PurgeRuleDto, {
    tags: {
      required: false,
      type: Boolean,
      description: "send the mapping's rendered tags as surrogate keys to the HTTP caches (default true)",
    },
    urls: {
      required: false,
      type: [String],
      maxItems: MAX_PURGE_URLS_PER_MAPPING,
      example: ['https://shop.example/products/{entityId}'],
      description: 'URL templates purged one by one; host literal, values URL-encoded',
    },
  });
  describe(MappingSpecDto, {
    entityType: { example: 'product' },
    tenant: { required: false, description: 'only events of this tenant use the mapping' },
    keys: { type: () => [KeyRuleDto], maxItems: MAX_RULES_PER_MAPPING },
    tags: { required: false, type: [String], example: ['tenant:{tenant}:products'] },
    namespaces: {
      required: false,
      type: [String],
      maxItems: MAX_NAMESPACES_PER_MAPPING,
      example: ['pricing:{tenant}:'],
      description:
        "namespace templates (key prefixes) whose generation every event bumps (once per entity version): readers declaring the namespace see everything under it as a miss; inside the owner team's keyspaces",
    },
    purge: {
      required: false,
      type: () => PurgeRuleDto,
      description: 'purge HTTP caches (Varnish xkey, Fastly, Cloudflare) for events of this mapping',
    },
    owner: { example: 'catalog', description: 'team owning the mapping; only its tokens (or an admin) may change it' },
    description: { required: false },
  });
  const COLUMN = 'a column name matching ^[A-Za-z_][A-Za-z0-9_]{0,62}$ (not __proto__, constructor, prototype)';
  describe(SourceSpecDto, {
    owner: {
      example: 'catalog',
      description:
        "team owning the declaration; it must own the topic (an admin's topic record) and the entity type (a grant is not enough)",
    },
    entityType: { example: 'product', description: 'the entity type every row of the table is (selects the mappings)' },
    idColumns: {
      type: [String],
      minItems: 1,
      maxItems: MAX_CDC_ID_COLUMNS,
      example: ['id'],
      description: `primary-key column(s) giving entityId, joined with "." when several; each ${COLUMN}`,
    },
    versionColumn: {
      required: false,
      example: 'version',
      description:
        "a column whose integer grows with every change of the row; absent: the change's WAL position (LSN) is the version. One entity type is versioned one way only (409 SOURCE_CONFLICT)",
    },
    tenantColumn: { required: false, example: 'tenant', description: 'the column holding the tenant' },
    fields: {
      required: false,
      type: Object,
      additionalProperties: { type: 'string' },
      example: { category_id: 'categoryId', updated_at: 'updatedAt' },
      description: `column -> event field renames in before/after (at most ${MAX_CDC_COLUMNS}; no two columns to one field)`,
    },
    numericColumns: {
      required: false,
      type: [String],
      maxItems: MAX_CDC_COLUMNS,
      example: ['price'],
      description: 'columns that arrive as decimal strings (decimal.handling.mode=string) and are numbers in the event',
    },
    excludeColumns: {
      required: false,
      type: [String],
      maxItems: MAX_CDC_COLUMNS,
      example: ['cost'],
      description: 'columns never copied into the event (a warm value written from `after` must not carry them)',
    },
    description: { required: false },
  });
  describe(SourceDto, {
    topic: {
      example: 'cdc.catalog.public.catalog_products',
      description: 'the Debezium change topic (<prefix>.<schema>.<table>): the record key',
    },
    version: { required: false, description: 'assigned by the registry, +1 per change' },
    updatedAt: { required: false, readOnly: true },
    updatedBy: { required: false, readOnly: true },
  });
  describe(MappingDto, {
    id: { example: 'catalog.product' },
    version: { required: false, description: 'assigned by the registry, +1 per change' },
    updatedAt: { required: false, readOnly: true },
    updatedBy: { required: false, readOnly: true },
  });
}

/** Serves the UI at /docs and the JSON at /docs-json. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Mapping registry')
    .setDescription(
      'Teams register which Redis keys and tags an entity.updated event invalidates, and which Debezium change topic (table) is which entity type (sources). Source of truth: a compacted Kafka topic every invalidator follows. ' +
        'Every mapping/audit route needs "Authorization: Bearer <token>"; a token acts for one team (or "*" = admin).',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
}
