// The signaldb-cli end-to-end test (cli.test.mjs) with the service database
// in a real PostgreSQL server instead of the default SQLite file.
process.env.SDB_CLI_BACKEND = 'postgres';
await import('./cli.test.mjs');
