// Request bodies and queries of the registry API. Mappings themselves use the DTO classes of
// @app/registry-core, so the API refuses exactly what the YAML loader and the store refuse.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { SAFE_ID_PATTERN } from '@app/contracts';
import { MAPPING_ID_PATTERN, MappingDto, MappingSpecDto } from '@app/registry-core';
import { documentRegistryDtos } from '../http/openapi';

documentRegistryDtos();

/** PUT /mappings/:id. What GET returns can be sent back: id/updatedAt/updatedBy are accepted, version is the expected version. */
export class PutMappingDto extends MappingSpecDto {
  @ApiPropertyOptional({ description: 'must equal the :id of the path when given' })
  @IsOptional()
  @IsString()
  id?: string;

  @ApiPropertyOptional({
    description: 'expected current version (optimistic concurrency, like If-Match); 0 = must not exist yet; 409 on mismatch',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  version?: number;

  @ApiPropertyOptional({ readOnly: true, description: 'ignored' })
  @IsOptional()
  @IsString()
  updatedAt?: string;

  @ApiPropertyOptional({ readOnly: true, description: 'ignored' })
  @IsOptional()
  @IsString()
  updatedBy?: string;
}

export class ExplainRequestDto {
  @ApiProperty({
    description: 'a sample entity.updated v1 event',
    example: {
      eventId: 'e-1',
      entityType: 'product',
      entityId: 'p-42',
      version: 7,
      tenant: 'acme',
      occurredAt: '2026-01-01T12:00:00Z',
      before: { name: 'Desk lamp', price: 19.5, categoryId: 'lighting' },
      after: { name: 'Desk lamp', price: 24, categoryId: 'desk' },
    },
  })
  @IsObject()
  event!: Record<string, unknown>;

  @ApiPropertyOptional({
    type: () => [MappingDto],
    description: 'candidate mappings to explain with, in place of the stored ones of the same id (nothing is saved)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => MappingDto)
  mappings?: MappingDto[];
}

export class ApplyRequestDto {
  @ApiProperty({ type: () => [MappingDto] })
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => MappingDto)
  mappings!: MappingDto[];

  @ApiPropertyOptional({ default: true, description: 'delete stored mappings of the pruned owners that are not in `mappings`' })
  @IsOptional()
  @IsBoolean()
  prune?: boolean;

  @ApiPropertyOptional({
    type: [String],
    description: 'owners whose missing mappings are deleted; default: the owners named in `mappings`. Other teams are never touched.',
  })
  @IsOptional()
  @IsArray()
  @Matches(SAFE_ID_PATTERN, { each: true })
  pruneOwners?: string[];

  @ApiPropertyOptional({ default: false, description: 'only compute and check the diff' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export class ListMappingsQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) entityType?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) owner?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) tenant?: string;
}

export class AuditQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(MAPPING_ID_PATTERN)
  mappingId?: string;

  @ApiPropertyOptional({ description: 'a keyspace record key, e.g. keyspace:prefix:product:' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  keyspace?: string;

  @ApiPropertyOptional({ description: 'a source declaration: its change topic, e.g. cdc.catalog.public.catalog_products' })
  @IsOptional()
  @IsString()
  @MaxLength(249)
  source?: string;

  @ApiPropertyOptional({ description: 'team of the actor' })
  @IsOptional()
  @IsString()
  team?: string;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
