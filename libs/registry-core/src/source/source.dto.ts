// The shape of a CDC source declaration as it travels (HTTP body, YAML, the compacted topic), as
// class-validator DTOs like mapping.dto.ts: the API's ValidationPipe, the YAML loader and the
// store refuse the same things. Names (columns, renames, reserved words) are checked after the
// shape by cdcSourceViolations, the rules the CDC_* settings have.
import 'reflect-metadata';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  registerDecorator,
  ValidationArguments,
} from 'class-validator';
import { SAFE_ID_PATTERN } from '@app/contracts';
import { MAX_CDC_COLUMNS, MAX_CDC_ID_COLUMNS, MAX_ENTITY_TYPE_LENGTH } from './cdc-source';

/** A Kafka topic name (legal characters, at most 249), never "." or "..". A Debezium change topic is `<prefix>.<schema>.<table>`. */
export const KAFKA_TOPIC_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,249}$/;
export const MAX_KAFKA_TOPIC_LENGTH = 249;

/** `fields`: a plain map of at most MAX_CDC_COLUMNS string -> string entries (the names are checked after the shape). */
function IsRenameMap(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isRenameMap',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: (args: ValidationArguments) =>
          `${args.property} must be a map of at most ${MAX_CDC_COLUMNS} column names to field names (strings)`,
      },
      validator: {
        validate(value: unknown): boolean {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return entries.length <= MAX_CDC_COLUMNS && entries.every(([, v]) => typeof v === 'string');
        },
      },
    });
}

const COLUMNS = (what: string) => ({ each: true, message: `${what} must be column names (strings)` });

/** A declaration without its topic (the body of PUT /sources/:topic). */
export class SourceSpecDto {
  /** The team that owns the declaration; it must own the topic and the entity type. */
  @IsString()
  @Matches(SAFE_ID_PATTERN, { message: 'owner must match ^[A-Za-z0-9_.\\-@]+$' })
  @MaxLength(64)
  owner!: string;

  @IsString()
  @Matches(SAFE_ID_PATTERN, { message: 'entityType must match ^[A-Za-z0-9_.\\-@]+$' })
  @MaxLength(MAX_ENTITY_TYPE_LENGTH)
  entityType!: string;

  @IsArray()
  @ArrayMinSize(1, { message: 'idColumns must name at least one column' })
  @ArrayMaxSize(MAX_CDC_ID_COLUMNS)
  @IsString(COLUMNS('idColumns'))
  idColumns!: string[];

  /** Absent: the change's WAL position (LSN) is the version. */
  @IsOptional()
  @IsString()
  versionColumn?: string;

  @IsOptional()
  @IsString()
  tenantColumn?: string;

  @IsOptional()
  @IsRenameMap()
  fields?: Record<string, string>;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_CDC_COLUMNS)
  @IsString(COLUMNS('numericColumns'))
  numericColumns?: string[];

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_CDC_COLUMNS)
  @IsString(COLUMNS('excludeColumns'))
  excludeColumns?: string[];

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

/** A declaration with its topic (YAML files, the compacted topic, apply requests). */
export class SourceDto extends SourceSpecDto {
  @IsString()
  @Matches(KAFKA_TOPIC_PATTERN, {
    message:
      'topic must be a Kafka topic name (A-Z a-z 0-9 . _ -, at most 249 characters, not "." or ".."), e.g. cdc.catalog.public.catalog_products',
  })
  topic!: string;

  /** Assigned by the store (1, 2, ...); 0 or absent = not stored yet. */
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
