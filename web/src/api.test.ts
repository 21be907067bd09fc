import { describe, expect, it } from 'vitest';
import { api, ApiError } from './api';
import { stubFetch } from './test/utils';

describe('api client', () => {
  it('parses the error body into an ApiError', async () => {
    stubFetch({
      'POST /api/bots': {
        status: 400,
        body: {
          error: {
            code: 'invalid_argument',
            message: 'budget must be positive',
            field: 'budget',
            violations: [{ field: 'budget', description: 'must be > 0' }],
          },
        },
      },
    });

    const err = await api.createBot({} as never).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 400,
      code: 'invalid_argument',
      message: 'budget must be positive',
      field: 'budget',
      violations: [{ field: 'budget', description: 'must be > 0' }],
    });
  });

  it('falls back to the HTTP status when the body is not an API error', async () => {
    stubFetch({ 'GET /api/stats': { status: 502 } });

    await expect(api.stats()).rejects.toThrow('HTTP 502');
  });

  it('sends DELETE with a JSON body and accepts an empty response', async () => {
    const fetchMock = stubFetch({ 'DELETE /api/bots/4': { status: 200 } });

    await expect(api.deleteBot(4)).resolves.toBeUndefined();
    const [, init] = fetchMock.mock.calls[0];
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/json');
    expect(init?.body).toBe('{}');
  });

  it('uploads a candle file as its raw bytes', async () => {
    const fetchMock = stubFetch({
      'POST /api/backtests/candles': { status: 200, body: { data_id: 'ab', candles: 2, already_held: true } },
    });
    const file = new Blob(['open_time_ms,open,high,low,close,volume\n']);

    await expect(api.uploadCandles(file)).resolves.toMatchObject({ data_id: 'ab', already_held: true });
    const [, init] = fetchMock.mock.calls[0];
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/octet-stream');
    expect(init?.body).toBe(file);
  });
});
