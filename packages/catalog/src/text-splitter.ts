/**
 * Splits long text into parts of at most `maxChars` characters, preferring the boundaries a reader would
 * choose: paragraphs first, then sentences, then words; only a single word longer than the budget is cut.
 * Parts are trimmed and never empty; text within the budget comes back as one part.
 */
export function splitText(text: string, maxChars: number): string[] {
  if (!Number.isInteger(maxChars) || maxChars < 1) {
    throw new RangeError(`maxChars must be a positive integer, got ${maxChars}`);
  }
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return split(trimmed, maxChars, 0);
}

/** From coarse to fine: how to break a unit that is too long, and how to glue pieces back together. */
const LEVELS: readonly { boundary: RegExp; glue: string }[] = [
  { boundary: /\n\s*\n/, glue: '\n\n' },
  { boundary: /\n/, glue: '\n' },
  { boundary: /(?<=[.!?;])\s+/, glue: ' ' },
  { boundary: /\s+/, glue: ' ' },
];

function split(text: string, maxChars: number, level: number): string[] {
  if (text.length <= maxChars) return [text];
  const rule = LEVELS[level];
  if (!rule) return cut(text, maxChars);
  const units = text
    .split(rule.boundary)
    .map((u) => u.trim())
    .filter((u) => u !== '')
    .flatMap((u) => split(u, maxChars, level + 1));
  return pack(units, rule.glue, maxChars);
}

/** Greedily joins consecutive units while the result stays within the budget. */
function pack(units: readonly string[], glue: string, maxChars: number): string[] {
  const parts: string[] = [];
  let current = '';
  for (const unit of units) {
    if (current === '') current = unit;
    else if (current.length + glue.length + unit.length <= maxChars) current += glue + unit;
    else {
      parts.push(current);
      current = unit;
    }
  }
  if (current !== '') parts.push(current);
  return parts;
}

/** Last resort for a "word" longer than the budget (a URL, a base64 blob); never splits a code point. */
function cut(text: string, maxChars: number): string[] {
  const parts: string[] = [];
  let current = '';
  for (const char of text) {
    if (current !== '' && current.length + char.length > maxChars) {
      parts.push(current);
      current = '';
    }
    current += char;
  }
  if (current !== '') parts.push(current);
  return parts;
}
