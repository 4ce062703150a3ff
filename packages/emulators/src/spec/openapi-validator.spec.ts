import { OpenApiValidator, type OpenApiDocument, rewriteOpenApi30 } from './openapi-validator';

const spec30: OpenApiDocument = {
  openapi: '3.0.1',
  paths: {
    '/things/{name}': {
      put: {
        operationId: 'put_thing',
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
        responses: {
          '200': { content: { 'application/json': { schema: { type: 'object', required: ['result'], properties: { result: { type: 'boolean' } } } } } },
          '4XX': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        },
      },
    },
    '/things/special': { put: { operationId: 'put_special', responses: {} } },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        required: ['size'],
        properties: {
          size: { type: 'integer', format: 'uint', minimum: 1 },
          note: { type: 'string', nullable: true },
          parent: { anyOf: [{ $ref: '#/components/schemas/Thing' }, { nullable: true }] },
        },
      },
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
    },
  },
};

describe(OpenApiValidator.name, () => {
  const validator = new OpenApiValidator(spec30);

  it('validates request bodies through $refs, honouring nullable', () => {
    expect(validator.validateRequest('PUT', '/things/a', { size: 2, note: null, parent: { size: 1, parent: null } }).valid).toBe(true);
    const bad = validator.validateRequest('PUT', '/things/a', { size: 0, parent: { note: 1 } });
    expect(bad.valid).toBe(false);
    expect(bad.operationId).toBe('put_thing');
  });

  it('picks the response schema by exact status, then by range', () => {
    expect(validator.validateResponse('PUT', '/things/a', 200, { result: true }).valid).toBe(true);
    expect(validator.validateResponse('PUT', '/things/a', 404, { error: 'gone' }).valid).toBe(true);
    expect(validator.validateResponse('PUT', '/things/a', 404, { status: 'gone' }).valid).toBe(false);
  });

  it('reports a status the spec does not describe instead of passing it', () => {
    const result = validator.validateResponse('PUT', '/things/a', 503, { error: 'down' });
    expect(result.valid).toBe(false);
    expect(result.errors[0]).toContain('503');
  });

  it('prefers literal path segments over parameters and reports unknown operations', () => {
    expect(validator.findOperation('put', '/things/special')?.operationId).toBe('put_special');
    expect(validator.findOperation('put', '/things/other')?.template).toBe('/things/{name}');
    expect(validator.validateRequest('get', '/nowhere', undefined).valid).toBe(false);
  });

  it('strips the base path of the first server URL', () => {
    const v = new OpenApiValidator({ ...spec30, servers: [{ url: 'https://api.example.com/v1' }] });
    expect(v.basePath).toBe('/v1');
    expect(v.findOperation('put', '/v1/things/a')?.operationId).toBe('put_thing');
  });
});

describe(rewriteOpenApi30.name, () => {
  it('turns nullable into JSON Schema null types', () => {
    expect(rewriteOpenApi30({ type: 'string', nullable: true })).toEqual({ type: ['string', 'null'] });
    expect(rewriteOpenApi30({ nullable: true })).toEqual({ type: 'null' });
    expect(rewriteOpenApi30({ $ref: '#/x', nullable: true })).toEqual({ anyOf: [{ $ref: '#/x' }, { type: 'null' }] });
    expect(rewriteOpenApi30({ type: 'string', enum: ['a'], nullable: true })).toEqual({ type: ['string', 'null'], enum: ['a', null] });
  });

  it('leaves a property that happens to be called nullable alone', () => {
    expect(rewriteOpenApi30({ properties: { nullable: { type: 'boolean' } } })).toEqual({ properties: { nullable: { type: 'boolean' } } });
  });
});
