export { openTestDatabase, type TestDatabase, testBackend } from './test-database.js';
