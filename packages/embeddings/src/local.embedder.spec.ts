import { countTokens, hashingVector } from '@catalog-indexer/text';
import { LocalEmbedder } from './local.embedder';

describe(LocalEmbedder.name, () => {
  const texts = ['orders placed by customers', 'customer email address', 'product price in cents'];

  it('embeds each text as its hashing vector and counts its tokens', async () => {
    const result = await new LocalEmbedder(32).embed(texts);
    expect(result.vectors.map((v) => Array.from(v))).toEqual(texts.map((t) => hashingVector(t, 32)));
    expect(result.tokens).toBe(texts.reduce((s, t) => s + countTokens(t), 0));
  });

  it('takes the token counts it is handed, and counts a text itself where none is given', async () => {
    const result = await new LocalEmbedder(32).embed(texts, undefined, [100, null, 7]);
    expect(result.tokens).toBe(100 + countTokens(texts[1]!) + 7);
    expect(result.vectors.map((v) => Array.from(v))).toEqual(texts.map((t) => hashingVector(t, 32)));
  });
});
