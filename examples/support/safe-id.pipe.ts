// The HTTP edge of SAFE_ID_PATTERN (@app/contracts, NestJS-free): a route id that will become
// part of a cache key or an event is checked before anything uses it. Shared by the examples.
import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { SAFE_ID_MESSAGE, SAFE_ID_PATTERN } from '@app/contracts';

@Injectable()
export class SafeIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || value.length > 128 || !SAFE_ID_PATTERN.test(value)) {
      const field = metadata.data ?? 'id';
      throw new BadRequestException({
        statusCode: 400,
        code: 'INVALID_REQUEST',
        message: `${field} ${SAFE_ID_MESSAGE}`,
        fields: [{ field, message: SAFE_ID_MESSAGE }],
      });
    }
    return value;
  }
}
