/**
 * An error the OpenAI API would answer with: a status and the `{"error":{message,type,param,code}}` body,
 * plus any headers (rate limits, `x-should-retry`).
 */
export class OpenAIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OpenAIError';
  }

  /** 400 `invalid_request_error`. */
  static invalidRequest(message: string, param: string | null = null, code: string | null = null): OpenAIError {
    return new OpenAIError(400, message, 'invalid_request_error', param, code);
  }

  /** The JSON body OpenAI sends. */
  toBody(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}
