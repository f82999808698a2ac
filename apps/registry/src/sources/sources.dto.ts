// Request bodies and queries of the source declaration API. The declaration itself is the
// SourceSpecDto / SourceDto of @app/registry-core, so the API refuses what the YAML loader and
// the store refuse.
import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, Matches, MaxLength, Min, ValidateNested } from 'class-validator';
import { SAFE_ID_PATTERN } from '@app/contracts';
import { SourceDto, SourceSpecDto } from '@app/registry-core';
import { documentRegistryDtos } from '../http/openapi';

documentRegistryDtos();

/** PUT /sources/:topic. What GET returns can be sent back: topic/updatedAt/updatedBy are accepted, version is the expected version. */
export class PutSourceDto extends SourceSpecDto {
  @ApiPropertyOptional({ description: 'must equal the :topic of the path when given' })
  @IsOptional()
  @IsString()
  topic?: string;

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

export class ApplySourcesDto {
  @ApiProperty({ type: () => [SourceDto] })
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => SourceDto)
  sources!: SourceDto[];

  @ApiPropertyOptional({ default: true, description: 'delete stored declarations of the pruned owners that are not in `sources`' })
  @IsOptional()
  @IsBoolean()
  prune?: boolean;

  @ApiPropertyOptional({
    type: [String],
    description: 'owners whose missing declarations are deleted; default: the owners named in `sources`. Other teams are never touched.',
  })
  @IsOptional()
  @IsArray()
  @Matches(SAFE_ID_PATTERN, { each: true })
  pruneOwners?: string[];

  @ApiPropertyOptional({ default: false, description: 'only check and list the changes' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export class ListSourcesQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) owner?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(64) entityType?: string;
}
