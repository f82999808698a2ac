// Request and response shapes. Every id ends up in a Redis key on the read side, so ids are held
// to the same pattern the event schema uses (no globs, colons, braces or whitespace).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { SAFE_ID_MESSAGE, SAFE_ID_PATTERN } from '@app/contracts';

const PRICE = { maxDecimalPlaces: 2, allowNaN: false, allowInfinity: false };

/**
 * Text PostgreSQL can store as given: no U+0000 (a text column refuses it, which was a 503) and no
 * unpaired surrogate (it would be stored as U+FFFD, not as sent).
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what it refuses
const STORABLE_TEXT = /^(?:[^\u0000\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;
const NAME_TEXT_MESSAGE = 'name must be text without NUL characters or unpaired surrogates';

export class CreateProductDto {
  @ApiPropertyOptional({ example: 'p-mug', description: 'Generated when absent' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(SAFE_ID_PATTERN, { message: `id ${SAFE_ID_MESSAGE}` })
  id?: string;

  @ApiProperty({ example: 'acme' })
  @IsString()
  @MaxLength(64)
  @Matches(SAFE_ID_PATTERN, { message: `tenant ${SAFE_ID_MESSAGE}` })
  tenant!: string;

  @ApiProperty({ example: 'Blue mug' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(STORABLE_TEXT, { message: NAME_TEXT_MESSAGE })
  name!: string;

  @ApiProperty({ example: 9.5 })
  @IsNumber(PRICE)
  @Min(0)
  @Max(1_000_000_000)
  price!: number;

  @ApiProperty({ example: 'kitchen' })
  @IsString()
  @MaxLength(128)
  @Matches(SAFE_ID_PATTERN, { message: `categoryId ${SAFE_ID_MESSAGE}` })
  categoryId!: string;
}

export class UpdateProductDto {
  @ApiPropertyOptional({ example: 'Red mug' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @Matches(STORABLE_TEXT, { message: NAME_TEXT_MESSAGE })
  name?: string;

  @ApiPropertyOptional({ example: 12 })
  @IsOptional()
  @IsNumber(PRICE)
  @Min(0)
  @Max(1_000_000_000)
  price?: number;

  @ApiPropertyOptional({ example: 'gifts' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  @Matches(SAFE_ID_PATTERN, { message: `categoryId ${SAFE_ID_MESSAGE}` })
  categoryId?: string;

  @ApiPropertyOptional({ description: 'Refuse with 409 unless the product is still at this version (optimistic concurrency)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedVersion?: number;
}

export class MoveProductDto {
  @ApiProperty({ example: 'gifts' })
  @IsString()
  @MaxLength(128)
  @Matches(SAFE_ID_PATTERN, { message: `categoryId ${SAFE_ID_MESSAGE}` })
  categoryId!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedVersion?: number;
}

export class ProductView {
  @ApiProperty() id!: string;
  @ApiProperty() tenant!: string;
  @ApiProperty() name!: string;
  @ApiProperty() price!: number;
  @ApiProperty() categoryId!: string;
  @ApiProperty({ description: 'Starts at 1, +1 per change' }) version!: number;
  @ApiProperty() updatedAt!: string;
}

export class CategoryListingView {
  @ApiProperty() categoryId!: string;
  @ApiProperty({ type: [ProductView] }) products!: ProductView[];
}

export class TenantListingView {
  @ApiProperty() tenant!: string;
  @ApiProperty({ type: [ProductView] }) products!: ProductView[];
}
