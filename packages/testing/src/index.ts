export { uniqueName } from './names';
export { createTestDatabase, withDatabase, type TestDatabase, type Closable } from './test-database';
export { deleteRedisPrefix } from './redis';
export { waitFor } from './wait-for';
