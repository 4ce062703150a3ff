// The two libraries ship no type declarations; these describe the parts the text analyser uses.
declare module 'wink-porter2-stemmer' {
  /** Porter2 ("English" Snowball) stem of one lowercase word. */
  function stem(word: string): string;
  export = stem;
}

declare module 'stopword' {
  /** English stop words, lowercase. */
  export const eng: string[];
}
