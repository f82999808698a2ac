// OpenAPI for the DTO classes of @app/registry-core. The lib stays free of Nest/Swagger, so the
// @ApiProperty metadata is attached here, once, to the very classes the ValidationPipe uses.
import { INestApplication } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptions, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { KEY_ACTIONS, KeyRuleDto, MappingDto, MappingSpecDto, MAX_RULES_PER_MAPPING, MAX_TTL_SECONDS } from '@app/registry-core';

let documented = false;

function describe(cls: abstract new () => unknown, properties: Record<string, ApiPropertyOptions>): void {
  for (const [name, options] of Object.entries(properties)) ApiProperty(options)(cls.prototype as object, name);
}

export function documentRegistryDtos(): void {
  if (documented) return;
  documented = true;
  describe(KeyRuleDto, {
    template: { example: 'category:{after.categoryId}:products', description: 'Segments separated by ":"; placeholders {entityId} {entityType} {tenant} {version} {after.<field>} {before.<field>}' },
    action: { enum: KEY_ACTIONS as string[], example: 'delete' },
    ttlSeconds: { required: false, minimum: 1, maximum: MAX_TTL_SECONDS, description: 'warm only: TTL of the rewritten value' },
    tombstoneTtlSeconds: { required: false, minimum: 1, maximum: MAX_TTL_SECONDS, description: 'how long the version guard lives (default from the registry config)' },
    warmFrom: {
      required: false,
      description: 'warm only: "after" (the event\'s after object, the default) or { loaderUrl } (a URL template)',
      oneOf: [{ type: 'string', enum: ['after'] }, { type: 'object', properties: { loaderUrl: { type: 'string', example: 'https://catalog.internal/products/{entityId}' } }, required: ['loaderUrl'] }],
    },
  });
  describe(MappingSpecDto, {
    entityType: { example: 'product' },
    tenant: { required: false, description: 'only events of this tenant use the mapping' },
    keys: { type: () => [KeyRuleDto], maxItems: MAX_RULES_PER_MAPPING },
    tags: { required: false, type: [String], example: ['tenant:{tenant}:products'] },
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
