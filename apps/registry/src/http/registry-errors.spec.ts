import { bodyRefusal } from './registry-errors';

describe('bodyRefusal', () => {
  const tooLarge = {
    type: 'entity.too.large',
    status: 413,
    expose: true,
    message: 'request entity too large',
    limit: 65_536,
    length: 70_000,
  };

  it('answers an oversized body 413 PAYLOAD_TOO_LARGE naming the limit and its variable', () => {
    expect(bodyRefusal(tooLarge)).toEqual({
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'request body (70000 bytes) is over the limit of 65536 bytes (REGISTRY_MAX_BODY_BYTES)',
    });
    const chunked = bodyRefusal({ ...tooLarge, length: undefined, limit: undefined }, 1024);
    expect(chunked.message).toBe('request body is over the limit of 1024 bytes (REGISTRY_MAX_BODY_BYTES)');
  });

  it('answers other refused bodies with their 4xx and REQUEST_INVALID', () => {
    expect(bodyRefusal({ type: 'charset.unsupported', status: 415, expose: true, message: 'unsupported charset "LATIN-9"' })).toMatchObject(
      { statusCode: 415, code: 'REQUEST_INVALID', field: 'body' },
    );
    expect(bodyRefusal({ type: 'entity.parse.failed', status: 400, expose: true, message: 'Unexpected end of JSON input' })).toMatchObject({
      statusCode: 400,
      code: 'REQUEST_INVALID',
    });
  });
});
