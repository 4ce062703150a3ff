import { EMBEDDING_LIMITS, parseEmbeddingRequest } from './limits';
import { OpenAIError } from './openai-error';

/** One token per word, so token counts in these tests are obvious. */
const wordCount = (text: string): number => text.split(/\s+/).filter(Boolean).length;
const parse = (body: unknown) => parseEmbeddingRequest(body, wordCount);
const errorOf = (body: unknown): OpenAIError => {
  try {
    parse(body);
  } catch (err) {
    if (err instanceof OpenAIError) return err;
    throw err;
  }
  throw new Error('expected an OpenAIError');
};
const words = (n: number): string => Array.from({ length: n }, () => 'w').join(' ');

describe(parseEmbeddingRequest.name, () => {
  it('accepts a string, strings, token ids and lists of token ids', () => {
    expect(parse({ model: 'text-embedding-3-small', input: 'a b c' }).totalTokens).toBe(3);
    expect(parse({ model: 'text-embedding-3-small', input: ['a', 'b c'] }).inputs.map((i) => i.tokens)).toEqual([1, 2]);
    expect(parse({ model: 'text-embedding-3-small', input: [1, 2, 3] }).inputs).toEqual([{ text: '1 2 3', tokens: 3 }]);
    expect(parse({ model: 'text-embedding-3-small', input: [[1], [2, 3]] }).totalTokens).toBe(3);
  });

  it('uses the model default size, float encoding, and honours dimensions on text-embedding-3', () => {
    expect(parse({ model: 'text-embedding-3-large', input: 'x' })).toMatchObject({ dimensions: 3072, encoding: 'float' });
    expect(parse({ model: 'text-embedding-ada-002', input: 'x' }).dimensions).toBe(1536);
    expect(parse({ model: 'text-embedding-3-small', input: 'x', dimensions: 256, encoding_format: 'base64' })).toMatchObject({
      dimensions: 256,
      encoding: 'base64',
    });
  });

  it('rejects empty input and empty strings', () => {
    expect(errorOf({ model: 'text-embedding-3-small', input: '' }).status).toBe(400);
    expect(errorOf({ model: 'text-embedding-3-small', input: [] }).status).toBe(400);
    expect(errorOf({ model: 'text-embedding-3-small', input: ['ok', ''] }).type).toBe('invalid_request_error');
  });

  it('rejects more than 2048 inputs', () => {
    const err = errorOf({ model: 'text-embedding-3-small', input: Array.from({ length: EMBEDDING_LIMITS.maxInputs + 1 }, () => 'x') });
    expect(err.status).toBe(400);
    expect(err.message).toContain('2048');
  });

  it('rejects an input over 8192 tokens with the context length message', () => {
    const err = errorOf({ model: 'text-embedding-3-small', input: ['short', words(8193)] });
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^This model's maximum context length is 8192 tokens, however you requested 8193 tokens/);
    expect(parse({ model: 'text-embedding-3-small', input: words(8192) }).totalTokens).toBe(8192);
  });

  it('rejects more than 300000 tokens in one request with max_tokens_per_request', () => {
    const err = errorOf({ model: 'text-embedding-3-small', input: Array.from({ length: 37 }, () => words(8192)) });
    expect(err).toMatchObject({ status: 400, code: 'max_tokens_per_request', message: 'Requested 303104 tokens, max 300000 tokens per request' });
  });

  it('rejects dimensions on a model that cannot shorten its vectors, and out-of-range sizes', () => {
    expect(errorOf({ model: 'text-embedding-ada-002', input: 'x', dimensions: 256 })).toMatchObject({ status: 400, param: 'dimensions' });
    expect(errorOf({ model: 'text-embedding-3-small', input: 'x', dimensions: 4096 }).status).toBe(400);
  });

  it('answers an unknown model with 404 model_not_found', () => {
    expect(errorOf({ model: 'text-embedding-4', input: 'x' })).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('rejects unknown arguments, a missing model and a bad encoding format', () => {
    expect(errorOf({ model: 'text-embedding-3-small', input: 'x', foo: 1 }).message).toBe('Unrecognized request argument supplied: foo');
    expect(errorOf({ input: 'x' }).message).toBe('you must provide a model parameter');
    expect(errorOf({ model: 'text-embedding-3-small', input: 'x', encoding_format: 'int8' }).param).toBe('encoding_format');
  });
});
