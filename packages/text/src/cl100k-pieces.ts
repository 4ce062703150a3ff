/**
 * cl100k_base's pre-tokenizer for ASCII text, by character code instead of a regular expression.
 *
 * gpt-tokenizer splits every text with its pattern (Unicode property classes, one match array per piece)
 * before it looks each piece up. For ASCII text the pattern's classes are small sets of character codes, so
 * a scanner can find the same pieces without the regular expression engine. The pattern, alternatives in
 * the order the engine tries them at each position:
 *
 * 1. `'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])`: a contraction;
 * 2. `[^\r\n\p{L}\p{N}]?\p{L}+`: letters, after at most one character that is neither a line break, a letter
 *    nor a digit;
 * 3. `\p{N}{1,3}`: one to three digits;
 * 4. ` ?[^\s\p{L}\p{N}]+[\r\n]*`: other characters, after at most one space, with the line breaks after them;
 * 5. `\s+$`: whitespace to the end of the text;
 * 6. `\s*[\r\n]`: whitespace up to and including its last line break;
 * 7. `\s+(?!\S)`: whitespace but its last character, when that is followed by something else;
 * 8. `\s`: one whitespace character.
 *
 * In ASCII, `\p{L}` is `A-Z a-z`, `\p{N}` is `0-9` and `\s` is tab, line feed, vertical tab, form feed,
 * carriage return and space. `cl100k-pieces.spec.ts` checks the pieces against the pattern itself.
 */

const LETTER = 1;
const DIGIT = 2;
const SPACE = 4;
const BREAK = 8;

/** Each ASCII code's classes. */
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) CLASS[c] = LETTER;
  else if (c >= 0x30 && c <= 0x39) CLASS[c] = DIGIT;
  else if (c === 0x0a || c === 0x0d) CLASS[c] = SPACE | BREAK;
  else if (c === 0x09 || c === 0x0b || c === 0x0c || c === 0x20) CLASS[c] = SPACE;
}

/** True when every character of `text` is ASCII. */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

const lower = (code: number): number => code | 0x20;

/** Where the piece of ASCII `text` that starts at `start` ends (exclusive). */
export function pieceEnd(text: string, start: number): number {
  const n = text.length;
  const c = text.charCodeAt(start);
  const k = CLASS[c]!;
  // 1. a contraction
  if (c === 0x27 && start + 1 < n) {
    const a = lower(text.charCodeAt(start + 1));
    if (a === 0x73 || a === 0x64 || a === 0x6d || a === 0x74) return start + 2;
    if (start + 2 < n) {
      const b = lower(text.charCodeAt(start + 2));
      if ((a === 0x6c && b === 0x6c) || (a === 0x76 && b === 0x65) || (a === 0x72 && b === 0x65)) return start + 3;
    }
  }
  // 2. letters, after one character that is not a line break, a letter or a digit
  if (k === LETTER || ((k & (BREAK | LETTER | DIGIT)) === 0 && start + 1 < n && CLASS[text.charCodeAt(start + 1)] === LETTER)) {
    let i = start + 1;
    while (i < n && CLASS[text.charCodeAt(i)] === LETTER) i++;
    return i;
  }
  // 3. one to three digits
  if (k === DIGIT) {
    let i = start + 1;
    while (i < n && i < start + 3 && CLASS[text.charCodeAt(i)] === DIGIT) i++;
    return i;
  }
  // 4. other characters, after at most one space, and the line breaks after them
  const otherFrom = c === 0x20 && start + 1 < n && CLASS[text.charCodeAt(start + 1)] === 0 ? start + 1 : k === 0 ? start : -1;
  if (otherFrom >= 0) {
    let i = otherFrom + 1;
    while (i < n && CLASS[text.charCodeAt(i)] === 0) i++;
    while (i < n && (CLASS[text.charCodeAt(i)]! & BREAK) !== 0) i++;
    return i;
  }
  // Whitespace from here: `c` is whitespace (every other class has matched above).
  let end = start + 1;
  let lastBreak = k & BREAK ? start : -1;
  while (end < n) {
    const e = CLASS[text.charCodeAt(end)]!;
    if ((e & SPACE) === 0) break;
    if (e & BREAK) lastBreak = end;
    end++;
  }
  // 5. whitespace to the end of the text
  if (end === n) return n;
  // 6. whitespace up to its last line break
  if (lastBreak >= 0) return lastBreak + 1;
  // 7. whitespace but its last character; 8. one whitespace character
  return end - start >= 2 ? end - 1 : start + 1;
}
