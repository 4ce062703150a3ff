import express from 'express';
import request from 'supertest';
import { ApiKeySet, requireApiKey } from './api-key-auth';
import { errorHandler } from './middleware';

const appWith = (keys: string[], basic = false) => {
  const app = express();
  app.use(requireApiKey(new ApiKeySet(keys), { basic }));
  app.get('/x', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(errorHandler);
  return app;
};

describe(ApiKeySet.name, () => {
  it('matches any configured key and nothing else, whatever the lengths', () => {
    const keys = new ApiKeySet(['alpha', 'beta-longer-key']);
    expect(keys.enabled).toBe(true);
    expect(keys.matches('alpha')).toBe(true);
    expect(keys.matches('beta-longer-key')).toBe(true);
    for (const k of ['', 'alph', 'alphaa', 'ALPHA', 'beta']) expect(keys.matches(k)).toBe(false);
    expect(new ApiKeySet([]).enabled).toBe(false);
  });
});

describe(requireApiKey.name, () => {
  it('lets every request through when no key is configured', async () => {
    await request(appWith([])).get('/x').expect(200);
  });

  it('takes a Bearer key and refuses a missing or wrong one with 401 and a challenge', async () => {
    const app = appWith(['s3cret']);
    await request(app).get('/x').set('Authorization', 'Bearer s3cret').expect(200);
    const missing = await request(app).get('/x').expect(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="catalog-indexer"');
    const wrong = await request(app).get('/x').set('Authorization', 'Bearer s3cre').expect(401);
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="catalog-indexer", error="invalid_token"');
    await request(app).get('/x').auth('u', 's3cret').expect(401);
  });

  it('with basic, takes the key as the password of any user', async () => {
    const app = appWith(['s3cret'], true);
    await request(app).get('/x').auth('anyone', 's3cret').expect(200);
    await request(app).get('/x').auth('anyone', 'wrong').expect(401);
    const none = await request(app).get('/x').expect(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/);
  });
});
