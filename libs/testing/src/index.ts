export { type AppProcess, startApp } from './app-process.js';
export { openTestDatabase, type TestDatabase, testBackend } from './test-database.js';
