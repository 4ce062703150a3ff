/**
 * Converts an OpenAPI path template (`/collections/{collection_name}`) into an Express 5 route path
 * (`/collections/:collection_name`), so that each route is declared once, in the notation of the spec it
 * emulates, and exchanges can be matched to spec operations without guessing.
 */
export function toExpressPath(template: string): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}
