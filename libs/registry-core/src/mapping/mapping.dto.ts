// The shape of a mapping as it travels (HTTP body, YAML, the compacted topic), as class-validator
// DTOs. The registry API's ValidationPipe uses these same classes, so the API, the YAML loader
// and the store refuse exactly the same things. Semantic checks (templates, fan-out) follow in
// validate-mapping.ts.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  registerDecorator,
  ValidationArguments,
} from 'class-validator';
import { SAFE_ID_PATTERN } from '@app/contracts';
import type { MappingKeyAction } from '../types';

export const KEY_ACTIONS: readonly MappingKeyAction[] = ['delete', 'tombstone', 'warm'];
/** Mapping ids are the compacted topic's keys: "team.entity" style, no whitespace or separators. */
export const MAPPING_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const MAX_TTL_SECONDS = 30 * 24 * 3600;
export const MAX_RULES_PER_MAPPING = 64;
/** Namespaces and purge URLs per mapping (each is one extra Redis script call or HTTP request per event). */
export const MAX_NAMESPACES_PER_MAPPING = 16;
export const MAX_PURGE_URLS_PER_MAPPING = 16;

/** `warmFrom` is "after" or `{ loaderUrl: "https://..." }`. */
function IsWarmSource(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isWarmSource',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: (args: ValidationArguments) => `${args.property} must be "after" or { loaderUrl: string }` },
      validator: {
        validate(value: unknown): boolean {
          if (value === 'after') return true;
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          const keys = Object.keys(value);
          const url = (value as { loaderUrl?: unknown }).loaderUrl;
          return keys.length === 1 && keys[0] === 'loaderUrl' && typeof url === 'string' && url.length > 0 && url.length <= 512;
        },
      },
    });
}

export class KeyRuleDto {
  /** e.g. "product:{entityId}" */
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  template!: string;

  @IsIn(KEY_ACTIONS as MappingKeyAction[], { message: `action must be one of ${KEY_ACTIONS.join(', ')}` })
  action!: MappingKeyAction;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TTL_SECONDS)
  ttlSeconds?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TTL_SECONDS)
  tombstoneTtlSeconds?: number;

  @IsOptional()
  @IsWarmSource()
  warmFrom?: 'after' | { loaderUrl: string };
}

/** `purge: { tags?: boolean, urls?: string[] }`: what HTTP caches purge for an event of this mapping. */
export class PurgeRuleDto {
  /** Purge the mapping's tags as surrogate keys. Default true. */
  @IsOptional()
  @IsBoolean()
  tags?: boolean;

  /** URL templates ("https://shop.example/products/{entityId}"). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_PURGE_URLS_PER_MAPPING)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(512, { each: true })
  urls?: string[];
}

/** A mapping without identity (the body of PUT /mappings/:id). */
export class MappingSpecDto {
  @IsString()
  @Matches(SAFE_ID_PATTERN, { message: 'entityType must match ^[A-Za-z0-9_.\\-@]+$' })
  @MaxLength(64)
  entityType!: string;

  /** Only events of this tenant use the mapping; absent = every tenant. */
  @IsOptional()
  @IsString()
  @Matches(SAFE_ID_PATTERN, { message: 'tenant must match ^[A-Za-z0-9_.\\-@]+$' })
  @MaxLength(64)
  tenant?: string;

  @IsArray()
  @ArrayMaxSize(MAX_RULES_PER_MAPPING)
  @ValidateNested({ each: true })
  @Type(() => KeyRuleDto)
  keys!: KeyRuleDto[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_RULES_PER_MAPPING)
  @IsString({ each: true })
  tags?: string[];

  /** Namespace templates (key prefixes) bumped by every event, e.g. "pricing:{tenant}:". */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_NAMESPACES_PER_MAPPING)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(256, { each: true })
  namespaces?: string[];

  @IsOptional()
  @IsObject({ message: 'purge must be an object { tags?: boolean, urls?: string[] }' })
  @ValidateNested()
  @Type(() => PurgeRuleDto)
  purge?: PurgeRuleDto;

  /** The team that owns the mapping; only its tokens may change or delete it. */
  @IsString()
  @Matches(SAFE_ID_PATTERN, { message: 'owner must match ^[A-Za-z0-9_.\\-@]+$' })
  @MaxLength(64)
  owner!: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

/** A mapping with its id (YAML files, the compacted topic, apply requests). */
export class MappingDto extends MappingSpecDto {
  @IsString()
  @Matches(MAPPING_ID_PATTERN, { message: 'id must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$' })
  @MaxLength(128)
  id!: string;

  /** Assigned by the store (1, 2, ...); 0 or absent = not stored yet. Ignored when applying a file. */
  @IsOptional()
  @IsInt()
  @Min(0)
  version?: number;

  @IsOptional()
  @IsString()
  updatedAt?: string;

  @IsOptional()
  @IsString()
  updatedBy?: string;
}
