import { OpenAIError } from './openai-error';

/** An embedding model the emulator serves. */
export interface EmbeddingModel {
  name: string;
  /** Vector size when the request gives no `dimensions`. */
  defaultDimensions: number;
  /** Whether `dimensions` may shorten the vector (text-embedding-3 only). */
  supportsDimensions: boolean;
}

/** The embedding models of the OpenAI API. */
export const EMBEDDING_MODELS: Readonly<Record<string, EmbeddingModel>> = {
  'text-embedding-3-small': { name: 'text-embedding-3-small', defaultDimensions: 1536, supportsDimensions: true },
  'text-embedding-3-large': { name: 'text-embedding-3-large', defaultDimensions: 3072, supportsDimensions: true },
  'text-embedding-ada-002': { name: 'text-embedding-ada-002', defaultDimensions: 1536, supportsDimensions: false },
};

/** The per-request limits of `POST /v1/embeddings`. */
export const EMBEDDING_LIMITS = {
  maxInputs: 2048,
  maxTokensPerInput: 8192,
  maxTokensPerRequest: 300_000,
} as const;

/** One input of a request, as text to embed and its token count. */
export interface EmbeddingInput {
  /** The text, or for token-id inputs the ids joined by spaces (what the emulator hashes). */
  text: string;
  tokens: number;
}

/** A validated embeddings request. */
export interface EmbeddingRequest {
  model: EmbeddingModel;
  inputs: EmbeddingInput[];
  encoding: 'float' | 'base64';
  dimensions: number;
  totalTokens: number;
}

const KNOWN_FIELDS = new Set(['input', 'model', 'encoding_format', 'dimensions', 'user']);
const API_REFERENCE = 'Please check the API reference: https://platform.openai.com/docs/api-reference.';

const invalidField = (field: string): OpenAIError => OpenAIError.invalidRequest(`'$.${field}' is invalid. ${API_REFERENCE}`, field);

const isTokenIds = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0);

/**
 * Validates a `createEmbedding` body against the API's rules and limits and counts its tokens, throwing
 * the {@link OpenAIError} OpenAI would answer with. `countTokens` counts a string's cl100k_base tokens.
 */
export function parseEmbeddingRequest(body: unknown, countTokens: (text: string) => number): EmbeddingRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw OpenAIError.invalidRequest(`The request body must be a JSON object. ${API_REFERENCE}`);
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).find((k) => !KNOWN_FIELDS.has(k));
  if (unknown !== undefined) throw OpenAIError.invalidRequest(`Unrecognized request argument supplied: ${unknown}`);

  if (b.model === undefined || b.model === null || b.model === '') {
    throw OpenAIError.invalidRequest('you must provide a model parameter');
  }
  if (typeof b.model !== 'string') throw invalidField('model');
  const model = EMBEDDING_MODELS[b.model];
  if (!model) {
    throw new OpenAIError(
      404,
      `The model \`${b.model}\` does not exist or you do not have access to it.`,
      'invalid_request_error',
      null,
      'model_not_found',
    );
  }

  const inputs = parseInputs(b.input, countTokens);

  let encoding: 'float' | 'base64' = 'float';
  if (b.encoding_format !== undefined && b.encoding_format !== null) {
    if (b.encoding_format !== 'float' && b.encoding_format !== 'base64') throw invalidField('encoding_format');
    encoding = b.encoding_format;
  }

  let dimensions = model.defaultDimensions;
  if (b.dimensions !== undefined && b.dimensions !== null) {
    if (!model.supportsDimensions) {
      throw OpenAIError.invalidRequest('This model does not support specifying dimensions.', 'dimensions');
    }
    if (typeof b.dimensions !== 'number' || !Number.isInteger(b.dimensions)) throw invalidField('dimensions');
    if (b.dimensions < 1 || b.dimensions > model.defaultDimensions) {
      throw OpenAIError.invalidRequest(
        `Invalid value for 'dimensions' = ${b.dimensions}. Must be between 1 and ${model.defaultDimensions}.`,
        'dimensions',
      );
    }
    dimensions = b.dimensions;
  }
  if (b.user !== undefined && b.user !== null && typeof b.user !== 'string') throw invalidField('user');

  const tooLong = inputs.find((i) => i.tokens > EMBEDDING_LIMITS.maxTokensPerInput);
  if (tooLong) {
    throw OpenAIError.invalidRequest(
      `This model's maximum context length is ${EMBEDDING_LIMITS.maxTokensPerInput} tokens, however you requested ` +
        `${tooLong.tokens} tokens (${tooLong.tokens} in your prompt; 0 for the completion). ` +
        'Please reduce your prompt; or completion length.',
    );
  }
  const totalTokens = inputs.reduce((s, i) => s + i.tokens, 0);
  if (totalTokens > EMBEDDING_LIMITS.maxTokensPerRequest) {
    throw OpenAIError.invalidRequest(
      `Requested ${totalTokens} tokens, max ${EMBEDDING_LIMITS.maxTokensPerRequest} tokens per request`,
      null,
      'max_tokens_per_request',
    );
  }
  return { model, inputs, encoding, dimensions, totalTokens };
}

function parseInputs(input: unknown, countTokens: (text: string) => number): EmbeddingInput[] {
  if (input === undefined || input === null) {
    throw OpenAIError.invalidRequest("'input' is a required property", 'input');
  }
  let items: (string | number[])[];
  if (typeof input === 'string') items = [input];
  else if (isTokenIds(input)) items = [input];
  else if (Array.isArray(input) && input.length > 0 && (input.every((i) => typeof i === 'string') || input.every(isTokenIds))) {
    items = input;
  } else {
    throw invalidField('input');
  }
  if (items.length > EMBEDDING_LIMITS.maxInputs) {
    throw OpenAIError.invalidRequest(
      `'$.input' is invalid: at most ${EMBEDDING_LIMITS.maxInputs} inputs per request, got ${items.length}. ${API_REFERENCE}`,
      'input',
    );
  }
  return items.map((item) => {
    if (typeof item === 'string') {
      if (item.length === 0) throw invalidField('input');
      return { text: item, tokens: countTokens(item) };
    }
    // Token ids are not decoded; hashing their text still gives a deterministic vector per input.
    return { text: item.join(' '), tokens: item.length };
  });
}
