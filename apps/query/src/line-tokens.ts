import { countTokens, tokenSegments } from '@catalog-indexer/text';

/** Segments whose token counts are kept between requests (the lines of one catalog's tables repeat). */
const DEFAULT_CAPACITY = 50_000;

/**
 * Counts cl100k tokens of a context's lines, with caches kept between requests. A text is counted as its
 * segments (see `tokenSegments`): a line followed by a line break and a line that starts with text (every
 * line of a context does) is a segment of its own, `line + "\n"`, and its count is exactly what it adds to
 * the text. Packing counts each line so and reserves one token for each blank line, which never
 * undercounts; the final text is counted exactly from the same cached counts.
 */
export class LineTokens {
  /** Counts of segments, the oldest dropped first once `capacity` are kept. */
  private readonly segments = new Map<string, number>();
  /** Counts of lines by the object they render: a catalog's graph keeps its objects while its version lasts. */
  private readonly rendered = new WeakMap<object, number>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** Segments whose counts are kept. */
  get size(): number {
    return this.segments.size;
  }

  /** What `line` adds to the text, its line break included. */
  line(line: string): number {
    return this.segment(`${line}\n`);
  }

  /** What `lines` add to the text, each with its line break. */
  lines(lines: readonly string[]): number {
    let n = 0;
    for (const line of lines) n += this.line(line);
    return n;
  }

  /** What the line `render` gives for `source` adds to the text, remembered for as long as `source` lives. */
  lineOf<T extends object>(source: T, render: (source: T) => string): number {
    let n = this.rendered.get(source);
    if (n === undefined) {
      n = this.line(render(source));
      this.rendered.set(source, n);
    }
    return n;
  }

  /** The tokens of `text`, exactly as `countTokens` counts them. */
  exact(text: string): number {
    let n = 0;
    for (const segment of tokenSegments(text)) n += this.segment(segment);
    return n;
  }

  private segment(text: string): number {
    let n = this.segments.get(text);
    if (n === undefined) {
      n = countTokens(text);
      if (this.segments.size >= this.capacity) this.segments.delete(this.segments.keys().next().value!);
      this.segments.set(text, n);
    }
    return n;
  }
}
