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
  @ApiPropertyOptional({
    type: [String],
    example: ['search'],
    description: 'other teams that may attach mappings to this entity type (absent: keep the current grants)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(SAFE_ID_PATTERN, { each: true, message: 'grants must be team names matching ^[A-Za-z0-9_.\\-@]+$' })
  grants?: string[];
}

const LIST_ITEM = (what: string) => ({ each: true, message: `${what} must be strings` });

/** The hosts and surrogate keys a team's mappings may use; the team comes from the path (or `team` in apply). Absent list: keep the current one (none for a new team). */
export class PutTeamHostsDto {
  @ApiPropertyOptional({
    type: [String],
    example: ['catalog.internal', '*.catalog.svc.cluster.local'],
    description: 'host patterns (exact or *.suffix) its loader URLs may name',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString(LIST_ITEM('loaderHosts'))
  loaderHosts?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['shop.example', '*.shop.example'],
    description: 'host patterns its purge URLs may name',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString(LIST_ITEM('purgeHosts'))
  purgeHosts?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['product:'],
    description: 'prefixes its purged tags (surrogate keys) must start with; no other team may own an overlapping one',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString(LIST_ITEM('surrogateKeyPrefixes'))
  surrogateKeyPrefixes?: string[];
}

export class TeamHostsGrantDto extends PutTeamHostsDto {
  @ApiProperty({ example: 'catalog' })
  @IsString()
  @Matches(SAFE_ID_PATTERN, TEAM)
  @MaxLength(64)
  team!: string;
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

export class TopicGrantDto extends PutPrefixDto {
  @ApiProperty({
    example: 'cdc.catalog.public.catalog_products',
    description: 'a Debezium change topic (one table): only its team may declare its source',
  })
  @IsString()
  @MaxLength(249)
  topic!: string;
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

  @ApiPropertyOptional({ type: () => [TeamHostsGrantDto], description: 'team records: loader hosts, purge hosts, surrogate-key prefixes' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => TeamHostsGrantDto)
  teams?: TeamHostsGrantDto[];

  @ApiPropertyOptional({ type: () => [TopicGrantDto], description: 'change topic ownership: the team whose table each topic is' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => TopicGrantDto)
  topics?: TopicGrantDto[];

  @ApiPropertyOptional({ default: false, description: 'only check and list the changes' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}
