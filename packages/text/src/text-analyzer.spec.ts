import { seededRandom } from '@catalog-indexer/testing';
import { analyzeText, buildVocabulary, isStopWord, splitCompound, splitWords, stem } from './text-analyzer';

describe(splitWords.name, () => {
  it('splits snake_case, camelCase, runs of capitals and digits, and lowercases', () => {
    expect(splitWords('customer_id CustomerId HTTPServer address2 2019Sales')).toEqual([
      'customer', 'id', 'customer', 'id', 'http', 'server', 'address', '2', '2019', 'sales',
    ]);
  });

  it('treats punctuation of any kind as a separator and keeps letters of any script', () => {
    expect(splitWords('Official_ratings_(millions), "Umsätze"/売上')).toEqual(['official', 'ratings', 'millions', 'umsätze', '売上']);
  });
});

describe(splitCompound.name, () => {
  const vocabulary = buildVocabulary(['high schooler', 'country language', 'car makers']);

  it('splits words written together into vocabulary words', () => {
    expect(splitCompound('highschooler', vocabulary)).toEqual(['high', 'schooler']);
    expect(splitCompound('countrylanguage', vocabulary)).toEqual(['country', 'language']);
    expect(splitCompound('highcountrylanguage', vocabulary)).toEqual(['high', 'country', 'language']);
  });

  it('leaves words that are not made of vocabulary words, and short parts, alone', () => {
    expect(splitCompound('carmakers', vocabulary)).toEqual(['car', 'makers']);
    expect(splitCompound('schoolhigh', new Set(['school']))).toBeNull();
    expect(splitCompound('highs', vocabulary)).toBeNull();
    expect(splitCompound('language', vocabulary)).toBeNull();
  });
});

describe(analyzeText.name, () => {
  it('drops stop words and one-letter words, keeps digits and stems the rest', () => {
    expect(isStopWord('the')).toBe(true);
    expect(isStopWord('x')).toBe(true);
    expect(isStopWord('7')).toBe(false);
    expect(analyzeText('What are the names of the 3 countries?')).toEqual(['name', '3', stem('countries')]);
    expect(stem('countries')).toBe(stem('country'));
  });

  it('lets a question about high schoolers meet a table named Highschooler, through the vocabulary', () => {
    const vocabulary = buildVocabulary(['Highschooler', 'high schooler']);
    const table = analyzeText('Table Highschooler', vocabulary);
    const question = analyzeText('How many high schoolers are there?');
    expect(question.filter((t) => table.includes(t))).toEqual(['high', 'schooler']);
    expect(analyzeText('Table Highschooler').filter((t) => question.includes(t))).toEqual([]);
  });
});

describe(`${analyzeText.name} on repeated words`, () => {
  it('answers the same terms for a text every time, and splits compounds by the vocabulary it is given', () => {
    const schoolers = buildVocabulary(['high schooler']);
    const languages = buildVocabulary(['country language']);
    const text = 'Highschooler countrylanguage Highschooler_id';
    const first = analyzeText(text, schoolers);
    expect(first).toEqual(['highschool', 'high', 'schooler', 'countrylanguag', 'highschool', 'high', 'schooler', 'id']);
    expect(analyzeText(text, schoolers)).toEqual(first);
    expect(analyzeText(text, languages)).toEqual(['highschool', 'countrylanguag', 'countri', 'languag', 'highschool', 'id']);
    expect(analyzeText(text)).toEqual(['highschool', 'countrylanguag', 'highschool', 'id']);
    // A caller changing the answer it was given does not change the next one.
    first.length = 0;
    expect(analyzeText(text, schoolers)).toHaveLength(8);
  });
});

describe(stem.name, () => {
  it('answers the same stem for a word every time, also after its memory of stems fills and empties', () => {
    const letters = (n: number): string => (n < 26 ? String.fromCharCode(97 + n) : letters(Math.floor(n / 26) - 1) + letters(n % 26));
    const words = Array.from({ length: 60_000 }, (_, i) => `conn${letters(i)}ections`);
    const first = words.map(stem);
    expect(new Set(first).size).toBe(60_000);
    expect(first.every((s) => !s.endsWith('ections'))).toBe(true);
    expect(words.map(stem)).toEqual(first);
    expect(['running', 'tables', '2024', 'naïve'].map(stem)).toEqual(['run', 'tabl', '2024', 'naïve']);
  });
});


/** Seeded texts of ASCII and other characters: identifiers, punctuation, and text NFKC changes. */
function randomTexts(seed: number, count: number): string[] {
  const next = seededRandom(seed);
  const pieces = ['High', 'schooler', 'country', 'Language', 'ID', 'HTTPServer', '_', ' ', ' ', '.', ':', '(', ')', '\n', '2019', 'x', 'the', 'of', 'Umsätze', '売上', 'ﬁle', 'Ａbc', '²', 'naïve', 'e\u0301', '→', '-', 'sales', 'Orders', 'customerId'];
  return Array.from({ length: count }, () => Array.from({ length: 1 + Math.floor(next() * 24) }, () => pieces[Math.floor(next() * pieces.length)]!).join(''));
}

describe(`${analyzeText.name} against its rules`, () => {
  it('gives the terms of splitWords, stop words dropped, compounds split, stems taken, for ASCII text and any other (seed 20261205)', () => {
    const vocabulary = buildVocabulary(['high schooler', 'country language', 'sales orders']);
    const texts = randomTexts(20261205, 2_000);
    expect(texts.filter((t) => !/[\u0080-\uffff]/.test(t)).length).toBeGreaterThan(100);
    expect(texts.filter((t) => /[\u0080-\uffff]/.test(t)).length).toBeGreaterThan(100);
    for (const text of texts) {
      const expected: string[] = [];
      for (const word of splitWords(text)) {
        if (!isStopWord(word)) expected.push(stem(word));
        for (const part of splitCompound(word, vocabulary) ?? []) if (!isStopWord(part)) expected.push(stem(part));
      }
      expect({ text, terms: analyzeText(text, vocabulary) }).toEqual({ text, terms: expected });
      expect({ text, terms: analyzeText(text) }).toEqual({ text, terms: splitWords(text).filter((w) => !isStopWord(w)).map(stem) });
    }
  });
});

describe(`${buildVocabulary.name} against its rules`, () => {
  it('holds the words of splitWords of three letters or more, letters only, stop words left out, for any text (seed 20261206)', () => {
    const texts = randomTexts(20261206, 2_000);
    const expected = new Set<string>();
    for (const text of texts) {
      for (const word of splitWords(text)) if (word.length >= 3 && !isStopWord(word) && /^\p{L}+$/u.test(word)) expected.add(word);
    }
    expect(expected.size).toBeGreaterThan(10);
    expect([...buildVocabulary(texts)].sort()).toEqual([...expected].sort());
  });
});
