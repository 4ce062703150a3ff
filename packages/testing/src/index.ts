export { uniqueName } from './names';
export { createTestDatabase, withDatabase, type TestDatabase } from './test-database';
export { deleteRedisPrefix } from './redis';
export { waitFor } from './wait-for';
