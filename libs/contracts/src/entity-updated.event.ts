// entity.updated v1: the one event write services publish and the invalidator consumes.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  IsDateString,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ArrayMaxSize,
  IsArray,
} from 'class-validator';

/** Identifiers that end up inside Redis keys: no glob characters, no separators, no whitespace. */
export const SAFE_ID_PATTERN = /^[A-Za-z0-9_.\-@]+$/;
export const SAFE_ID_MESSAGE = 'must match ^[A-Za-z0-9_.\\-@]+$ (no glob characters, colons, braces or whitespace)';

export class EntityUpdatedEvent {
  /** Globally unique id of this event (UUID recommended); the dedup key. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  eventId!: string;

  /** e.g. "product"; selects the mappings. */
  @IsString()
  @Matches(SAFE_ID_PATTERN, { message: `entityType ${SAFE_ID_MESSAGE}` })
  @MaxLength(64)
  entityType!: string;

  @IsString()
  @Matches(SAFE_ID_PATTERN, { message: `entityId ${SAFE_ID_MESSAGE}` })
  @MaxLength(128)
  entityId!: string;

  /** Monotonic per entity (e.g. a row version); the guard against backwards moves. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version!: number;

  @IsOptional()
  @IsString()
  @Matches(SAFE_ID_PATTERN, { message: `tenant ${SAFE_ID_MESSAGE}` })
  @MaxLength(64)
  tenant?: string;

  /** ISO-8601 time the change happened in the source of truth. */
  @IsDateString()
  occurredAt!: string;

  /** State before the change (a moved entity must invalidate its old keys and tags). */
  @IsOptional()
  @IsObject()
  before?: Record<string, unknown>;

  /** State after the change; the value of a warm rewrite. */
  @IsOptional()
  @IsObject()
  after?: Record<string, unknown>;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @ArrayMaxSize(256)
  changedFields?: string[];
}

/** The plain shape (what travels as JSON). */
export type EntityUpdated = {
  eventId: string;
  entityType: string;
  entityId: string;
  version: number;
  tenant?: string;
  occurredAt: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  changedFields?: string[];
};
