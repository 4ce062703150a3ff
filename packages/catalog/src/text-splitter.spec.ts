import { splitText } from './text-splitter';

describe(splitText.name, () => {
  it('returns short text as one trimmed part, and nothing for blank text', () => {
    expect(splitText('  Hello.  ', 100)).toEqual(['Hello.']);
    expect(splitText(' \n ', 100)).toEqual([]);
  });

  it('splits at paragraph boundaries first, packing paragraphs that fit together', () => {
    const text = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)].join('\n\n');
    expect(splitText(text, 90)).toEqual([`${'a'.repeat(40)}\n\n${'b'.repeat(40)}`, 'c'.repeat(40)]);
  });

  it('splits a paragraph that is too long at sentence boundaries', () => {
    const text = 'One two three. Four five six! Seven eight nine?';
    expect(splitText(text, 20)).toEqual(['One two three.', 'Four five six!', 'Seven eight nine?']);
  });

  it('splits a sentence that is too long between words', () => {
    expect(splitText('alpha beta gamma delta', 11)).toEqual(['alpha beta', 'gamma delta']);
  });

  it('cuts a single word longer than the budget without breaking a code point', () => {
    expect(splitText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(splitText('😀😀😀', 4)).toEqual(['😀😀', '😀']);
  });

  it('keeps every part within the budget and loses no words', () => {
    const text = Array.from({ length: 200 }, (_, i) => `Sentence number ${i} is here.${i % 7 === 0 ? '\n\n' : ' '}`).join('');
    const parts = splitText(text, 250);
    expect(parts.every((p) => p.length <= 250 && p.length > 0)).toBe(true);
    expect(parts.join(' ').split(/\s+/)).toEqual(text.trim().split(/\s+/));
  });

  it('refuses a budget that is not a positive integer', () => {
    expect(() => splitText('x', 0)).toThrow(RangeError);
  });
});
