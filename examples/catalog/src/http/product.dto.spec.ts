import { ArgumentMetadata, BadRequestException } from '@nestjs/common';
import { requestValidationPipe } from './http-support';
import { CreateProductDto, UpdateProductDto } from './product.dto';

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });

/** The 400's message, or undefined when the pipe accepts the body. */
async function refusal(metatype: ArgumentMetadata['metatype'], value: object): Promise<string | undefined> {
  try {
    await requestValidationPipe().transform(value, body(metatype));
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return JSON.stringify((error as BadRequestException).getResponse());
  }
}

describe('product request bodies', () => {
  const mug = { tenant: 'acme', name: 'Blue mug', price: 9.5, categoryId: 'kitchen' };

  it('accepts a name in any script, emoji included', async () => {
    expect(await refusal(CreateProductDto, { ...mug, name: 'Tasse bleue 青い 🍵' })).toBeUndefined();
    expect(await refusal(UpdateProductDto, { name: 'Tasse 🍵' })).toBeUndefined();
  });

  // PostgreSQL text cannot hold U+0000 (the write failed as DATABASE_UNAVAILABLE, a 503 the caller
  // retries forever), and an unpaired surrogate was silently stored as U+FFFD.
  it.each([
    ['a NUL character', 'Blue\u0000mug'],
    ['an unpaired high surrogate', 'Blue \ud83c mug'],
    ['an unpaired low surrogate', 'Blue \udf75 mug'],
  ])('refuses a name holding %s with a 400 naming the field', async (_what, name) => {
    for (const [dto, value] of [
      [CreateProductDto, { ...mug, name }],
      [UpdateProductDto, { name }],
    ] as const) {
      const message = await refusal(dto, value);
      expect(message).toContain('INVALID_REQUEST');
      expect(message).toContain('"field":"name"');
    }
  });
});
