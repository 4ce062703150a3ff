import OpenAI from 'openai';
import { type Logger } from '@catalog-indexer/logger';
import { OPENAI_LIMITS, packBatches, type BatchLimits, type PreparedInput } from './batching';
import { type Embedder, type EmbeddingResult } from './embedder';
import { EmbeddingRequestError } from './embedding.error';
import { truncateToTokens } from '@catalog-indexer/text';

export interface OpenAIEmbedderOptions {
  apiKey: string;
  baseUrl?: string;
  model: string;
  dimensions: number;
  /** Send `dimensions` in requests. On for text-embedding-3 models; off for servers that reject it. */
  sendDimensions?: boolean;
  /** `base64` (the SDK's default: a quarter of the bytes) or `float` for servers that ignore the field. */
  encoding?: 'base64' | 'float';
  /** Tokens per request (at most 300,000); below 8,191 it also caps each input, which is truncated to fit. */
  batchMaxTokens?: number;
  batchMaxInputs?: number;
  maxRetries?: number;
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * Embeds through the official `openai` SDK. Texts are counted with cl100k_base, cut to the per-input limit
 * (a chunk over it is truncated, never sent to fail), and packed into requests within the input and token
 * limits. The SDK retries 408/409/429/5xx and connection errors with backoff, honouring `retry-after`;
 * errors that a retry cannot fix become {@link EmbeddingRequestError}.
 */
export class OpenAIEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly limits: BatchLimits;
  private readonly encoding: 'base64' | 'float';
  private readonly sendDimensions: boolean;
  private readonly logger: Logger | undefined;

  constructor(options: OpenAIEmbedderOptions) {
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.encoding = options.encoding ?? 'base64';
    this.sendDimensions = options.sendDimensions ?? options.model.startsWith('text-embedding-3');
    this.logger = options.logger;
    const maxTokensPerRequest = Math.min(options.batchMaxTokens ?? OPENAI_LIMITS.maxTokensPerRequest, OPENAI_LIMITS.maxTokensPerRequest);
    this.limits = {
      maxInputs: Math.min(options.batchMaxInputs ?? OPENAI_LIMITS.maxInputs, OPENAI_LIMITS.maxInputs),
      // A request budget below the per-input limit also caps each input: one input alone must fit a request.
      maxTokensPerInput: Math.min(OPENAI_LIMITS.maxTokensPerInput, maxTokensPerRequest),
      maxTokensPerRequest,
    };
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      maxRetries: options.maxRetries ?? 5,
      timeout: options.timeoutMs ?? 60_000,
    });
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    const prepared: PreparedInput[] = texts.map((raw, index) => {
      // The API rejects empty strings; a single space embeds as "nothing" and keeps positions aligned.
      const text = raw.trim() === '' ? ' ' : raw;
      const cut = truncateToTokens(text, this.limits.maxTokensPerInput);
      if (cut.text.length < text.length) {
        this.logger?.warn({ index, tokens: cut.tokens }, 'input over the per-input token limit was truncated');
      }
      return { index, text: cut.text, tokens: cut.tokens };
    });
    const vectors: number[][] = new Array<number[]>(texts.length);
    let tokens = 0;
    for (const batch of packBatches(prepared, this.limits)) {
      const response = await this.request(batch.map((b) => b.text), signal);
      tokens += response.usage?.total_tokens ?? batch.reduce((s, b) => s + b.tokens, 0);
      if (response.data.length !== batch.length) {
        throw new EmbeddingRequestError(`the embeddings API returned ${response.data.length} vectors for ${batch.length} inputs`);
      }
      for (const item of response.data) {
        const input = batch[item.index];
        if (!input) throw new EmbeddingRequestError(`the embeddings API returned an unknown index ${item.index}`);
        if (item.embedding.length !== this.dimensions) {
          throw new EmbeddingRequestError(
            `the embeddings API returned vectors of ${item.embedding.length} dimensions, expected ${this.dimensions}: ` +
              'check EMBEDDING_DIMENSIONS, or set EMBEDDING_ENCODING=float for servers that ignore encoding_format',
          );
        }
        vectors[input.index] = item.embedding;
      }
    }
    return { vectors, tokens };
  }

  private async request(input: string[], signal?: AbortSignal): Promise<OpenAI.CreateEmbeddingResponse> {
    try {
      return await this.client.embeddings.create(
        {
          model: this.model,
          input,
          // Omitted, the SDK asks for base64 and decodes it to floats itself; given explicitly, it would hand
          // back the raw base64 strings.
          ...(this.encoding === 'float' ? { encoding_format: 'float' as const } : {}),
          ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
        },
        { signal },
      );
    } catch (error) {
      throw classify(error);
    }
  }
}

/** Errors a retry cannot fix become {@link EmbeddingRequestError}; the rest are thrown as they are. */
function classify(error: unknown): unknown {
  if (!(error instanceof OpenAI.APIError)) return error;
  const status: number | undefined = (error as { status?: number }).status;
  const code = typeof error.code === 'string' ? error.code : null;
  if (status === 429 && code === 'insufficient_quota') {
    return new EmbeddingRequestError(`embeddings quota exhausted: ${error.message}`, status, code);
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429) {
    const hint = status === 401 ? ' (check OPENAI_API_KEY)' : status === 404 ? ' (check EMBEDDING_MODEL and OPENAI_BASE_URL)' : '';
    return new EmbeddingRequestError(`embeddings request refused with ${status}${hint}: ${error.message}`, status, code);
  }
  return error;
}
