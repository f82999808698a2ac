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
  PurgeRuleDto,
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
      'Teams register which Redis keys and tags an entity.updated event invalidates. Source of truth: a compacted Kafka topic every invalidator follows. ' +
        'Every mapping/audit route needs "Authorization: Bearer <token>"; a token acts for one team (or "*" = admin).',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
}
