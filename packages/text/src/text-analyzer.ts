// Type declarations of the two libraries (they ship none), visible wherever this file is compiled.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./vendor.d.ts" />
import { eng as englishStopWords } from 'stopword';
import porter2 from 'wink-porter2-stemmer';

/**
 * The one text analysis of the product, for the chunks it indexes and the questions it is asked alike, so
 * that a question's words meet the catalog's words. Rules, in order:
 * 1. **Words**: runs of letters and digits (any script); everything else separates words, `_` included.
 * 2. **Identifiers**: a word is split where its case changes from lower to upper (`customerId` →
 *    `customer` `Id`), before the last capital of a run of capitals (`HTTPServer` → `HTTP` `Server`) and
 *    between letters and digits (`address2` → `address` `2`).
 * 3. **Lowercase** (Unicode), after NFKC normalisation.
 * 4. **Compound words**: with a vocabulary (the words of the catalog's own names and descriptions), a word
 *    of at least {@link COMPOUND_MIN_LENGTH} letters that is two or three vocabulary words written together
 *    (`highschooler` → `high` `schooler`, `countrylanguage` → `country` `language`) also yields its parts;
 *    each part has at least {@link COMPOUND_PART_MIN_LENGTH} letters. The whole word is kept too.
 * 5. **Stop words**: the English list of the `stopword` library (function words such as "the", "of",
 *    "which") are dropped, as are words of one letter. Digits are kept.
 * 6. **Stemming**: the Porter2 (Snowball English) stemmer of `wink-porter2-stemmer`, so that "schoolers",
 *    "schooler" and "countries", "country" meet.
 */

/** Shortest word that is tried as a compound. */
export const COMPOUND_MIN_LENGTH = 6;
/** Shortest part of a compound. */
export const COMPOUND_PART_MIN_LENGTH = 3;

const STOP_WORDS: ReadonlySet<string> = new Set(englishStopWords);

/** Letters and digits of any script; the rest separates words. */
const WORD = /[\p{L}\p{N}]+/gu;
/** Boundaries inside an identifier: lower→Upper, UPPER→Upper+lower, letter↔digit. */
const IDENTIFIER_BOUNDARY = /(?<=\p{Ll})(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})|(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u;

/** The lowercase words of `text`, identifiers split (rules 1-3); stop words and stems not applied. */
export function splitWords(text: string): string[] {
  const out: string[] = [];
  for (const match of text.normalize('NFKC').matchAll(WORD)) {
    for (const part of match[0].split(IDENTIFIER_BOUNDARY)) {
      if (part !== '') out.push(part.toLowerCase());
    }
  }
  return out;
}

/**
 * The parts of `word` if it is two or three vocabulary words written together (rule 4), longest first
 * part first; `null` if it is not. A word that is itself in the vocabulary is still split when it can be,
 * since catalogs often spell one idea both ways (`Highschooler` and "high schooler").
 */
export function splitCompound(word: string, vocabulary: ReadonlySet<string>, maxParts = 3): string[] | null {
  if (word.length < COMPOUND_MIN_LENGTH || !/^\p{L}+$/u.test(word)) return null;
  const min = COMPOUND_PART_MIN_LENGTH;
  for (let cut = word.length - min; cut >= min; cut--) {
    const head = word.slice(0, cut);
    if (!vocabulary.has(head)) continue;
    const tail = word.slice(cut);
    if (vocabulary.has(tail)) return [head, tail];
    if (maxParts > 2) {
      const rest = splitCompound(tail, vocabulary, maxParts - 1);
      if (rest) return [head, ...rest];
    }
  }
  return null;
}

/** Stems already computed: a catalog repeats its words thousands of times. Bounded; emptied when full. */
const STEM_CACHE_SIZE = 50_000;
const stems = new Map<string, string>();

/** Porter2 stem of a lowercase word; digits and other scripts pass through unchanged. */
export function stem(word: string): string {
  let stemmed = stems.get(word);
  if (stemmed === undefined) {
    stemmed = /^[a-z]+$/.test(word) ? porter2(word) : word;
    if (stems.size >= STEM_CACHE_SIZE) stems.clear();
    stems.set(word, stemmed);
  }
  return stemmed;
}

/** Whether a lowercase word carries no meaning of its own (rule 5). */
export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word) || (word.length < 2 && !/^\p{N}$/u.test(word));
}

/**
 * The terms of `text` under rules 1-6, in order, repeats kept (term frequency matters). With a
 * `vocabulary`, compound words also yield their parts, right after the whole word.
 */
export function analyzeText(text: string, vocabulary?: ReadonlySet<string>): string[] {
  const terms: string[] = [];
  for (const analysed of analysedRuns(text, vocabulary)) for (const term of analysed) terms.push(term);
  return terms;
}

/**
 * The terms of each run of letters and digits of `text`, in order (what {@link analyzeText} flattens). The
 * arrays are shared with the analysis cache: a caller reads them and never changes them.
 */
export function analysedRuns(text: string, vocabulary: ReadonlySet<string> | undefined): (readonly string[])[] {
  const known = analysesFor(vocabulary);
  const runs = wordRuns(text);
  const out = new Array<readonly string[]>(runs.length);
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i]!;
    let analysed = known.get(run);
    if (analysed === undefined) {
      analysed = analyseRun(run, vocabulary);
      if (known.size >= ANALYSIS_CACHE_SIZE) known.clear();
      known.set(run, analysed);
    }
    out[i] = analysed;
  }
  return out;
}

/** Any character outside ASCII. */
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * The runs of letters and digits of `text` after NFKC normalisation (rule 1). Most catalog text is ASCII,
 * which NFKC leaves as it is and whose letters and digits are `A-Z`, `a-z` and `0-9`: such a text is scanned
 * by character code, without a match object per word. Other text goes through the Unicode pattern.
 */
function wordRuns(text: string): string[] {
  const runs: string[] = [];
  if (NON_ASCII.test(text)) {
    for (const match of text.normalize('NFKC').matchAll(WORD)) runs.push(match[0]);
    return runs;
  }
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const alphanumeric = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
    if (alphanumeric) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      runs.push(text.slice(start, i));
      start = -1;
    }
  }
  if (start >= 0) runs.push(text.slice(start));
  return runs;
}

/** The terms of one run of letters and digits (rules 2-6). */
function analyseRun(run: string, vocabulary: ReadonlySet<string> | undefined): readonly string[] {
  const terms: string[] = [];
  for (const part of run.split(IDENTIFIER_BOUNDARY)) {
    if (part === '') continue;
    const word = part.toLowerCase();
    if (!isStopWord(word)) terms.push(stem(word));
    const parts = vocabulary ? splitCompound(word, vocabulary) : null;
    for (const p of parts ?? []) if (!isStopWord(p)) terms.push(stem(p));
  }
  return terms;
}

/**
 * Terms already found for a run of letters and digits, per vocabulary: a catalog repeats its names and
 * words thousands of times over its chunks. Bounded; emptied when full. A vocabulary's memory goes with it;
 * a vocabulary must not change once it has been used.
 */
const ANALYSIS_CACHE_SIZE = 50_000;
const analysesWithout = new Map<string, readonly string[]>();
const analysesWith = new WeakMap<ReadonlySet<string>, Map<string, readonly string[]>>();

function analysesFor(vocabulary: ReadonlySet<string> | undefined): Map<string, readonly string[]> {
  if (!vocabulary) return analysesWithout;
  let known = analysesWith.get(vocabulary);
  if (!known) {
    known = new Map();
    analysesWith.set(vocabulary, known);
  }
  return known;
}

/**
 * The vocabulary for compound splitting from texts that describe one catalog (its names and descriptions):
 * every lowercase word of at least {@link COMPOUND_PART_MIN_LENGTH} letters, identifiers split, stop words
 * left out.
 */
export function buildVocabulary(texts: Iterable<string>): Set<string> {
  const vocabulary = new Set<string>();
  // A catalog's names repeat over its tables and columns: each run of letters and digits is split once.
  const seen = new Set<string>();
  for (const text of texts) {
    for (const run of wordRuns(text)) {
      if (seen.has(run)) continue;
      seen.add(run);
      for (const part of run.split(IDENTIFIER_BOUNDARY)) {
        const word = part.toLowerCase();
        if (word.length >= COMPOUND_PART_MIN_LENGTH && !STOP_WORDS.has(word) && LETTERS.test(word)) vocabulary.add(word);
      }
    }
  }
  return vocabulary;
}

/** Letters of any script, and nothing else. */
const LETTERS = /^\p{L}+$/u;
