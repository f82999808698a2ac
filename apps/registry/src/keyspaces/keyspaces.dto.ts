// Request bodies of the keyspace (ownership) API. Prefix and entity type come from the path;
// their syntax is checked by @app/registry-core (KEYSPACE_INVALID naming the field).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { SAFE_ID_PATTERN } from '@app/contracts';

const TEAM = { message: 'team must match ^[A-Za-z0-9_.\\-@]+$' };

export class PutPrefixDto {
  @ApiProperty({ example: 'catalog', description: 'the team that owns every key and tag starting with this prefix' })
  @IsString()
  @Matches(SAFE_ID_PATTERN, TEAM)
  @MaxLength(64)
  team!: string;
}

export class PutEntityTypeDto extends PutPrefixDto {
  @ApiPropertyOptional({ type: [String], example: ['search'], description: 'other teams that may attach mappings to this entity type (absent: keep the current grants)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(SAFE_ID_PATTERN, { each: true, message: 'grants must be team names matching ^[A-Za-z0-9_.\\-@]+$' })
  grants?: string[];
}

export class PrefixGrantDto extends PutPrefixDto {
  @ApiProperty({ example: 'product:' })
  @IsString()
  @MaxLength(128)
  prefix!: string;
}

export class EntityTypeGrantDto extends PutEntityTypeDto {
  @ApiProperty({ example: 'product' })
  @IsString()
  @MaxLength(64)
  entityType!: string;
}

export class ApplyKeyspacesDto {
  @ApiPropertyOptional({ type: () => [PrefixGrantDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => PrefixGrantDto)
  prefixes?: PrefixGrantDto[];

  @ApiPropertyOptional({ type: () => [EntityTypeGrantDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => EntityTypeGrantDto)
  entityTypes?: EntityTypeGrantDto[];

  @ApiPropertyOptional({ default: false, description: 'only check and list the changes' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}
