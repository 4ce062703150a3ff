import { questionIdentity } from './served-space';

describe(questionIdentity.name, () => {
  const openai = { provider: 'openai', model: 'text-embedding-3-large', dimensions: 3072 } as const;
  const local = { provider: 'local', model: 'hashing-v1', dimensions: 3072 } as const;

  it('embeds questions in the identity the served collection records, whatever this process is configured with', () => {
    expect(questionIdentity({ provider: 'local', model: 'hashing-v1', dimensions: 64 }, openai)).toEqual({ provider: 'local', model: 'hashing-v1', dimensions: 64 });
    expect(questionIdentity({ provider: 'openai', model: 'text-embedding-3-small', dimensions: 512 }, local)).toEqual({
      provider: 'openai',
      model: 'text-embedding-3-small',
      dimensions: 512,
    });
  });

  it('embeds questions for a collection of no recorded provider as the version that made it did under this configuration', () => {
    const legacy = { provider: null, model: 'text-embedding-3-large', dimensions: 3072 };
    expect(questionIdentity(legacy, openai)).toEqual(openai);
    // Without a key that version ran the local embedder under the OpenAI model's name.
    expect(questionIdentity(legacy, local)).toEqual(local);
  });

  it('refuses a provider it does not know', () => {
    expect(() => questionIdentity({ provider: 'cohere', model: 'embed-v3', dimensions: 1024 }, openai)).toThrow(/unknown provider "cohere"/);
  });
});
