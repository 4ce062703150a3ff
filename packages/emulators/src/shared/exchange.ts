/** One request and its response as an emulator saw them, recorded for spec and behaviour tests. */
export interface Exchange {
  method: string;
  /** The concrete path, without the query string (`/collections/c1/points`). */
  path: string;
  /**
   * The route template in OpenAPI notation (`/collections/{collection_name}/points`); undefined when no
   * route matched.
   */
  template?: string;
  query: Record<string, unknown>;
  status: number;
  requestHeaders: Record<string, string | string[] | undefined>;
  responseHeaders: Record<string, number | string | string[] | undefined>;
  /** Parsed JSON body, or undefined when the request had none (or it was not valid JSON). */
  requestBody: unknown;
  /** Parsed JSON body, the text of a text response, or undefined. */
  responseBody: unknown;
  responseContentType?: string;
}

/** Receives every recorded exchange. */
export type ExchangeListener = (exchange: Exchange) => void;
