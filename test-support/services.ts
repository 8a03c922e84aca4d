/**
 * Servers shared by the whole test run. Starters register here; each returns a stop function and may
 * publish connection details through process.env for the test files (the only place env is written).
 */
import { startPostgres } from './postgres.ts';

export interface TestServices {
  stop(): Promise<void>;
}

type Starter = () => Promise<() => Promise<void>>;

const starters: Starter[] = [
  // PostgreSQL 15 for the control API tests: TEST_DATABASE_URL is a superuser URL; each test file creates
  // its own database from it so files can run in parallel. TEST_PG_DATA_DIR lets tests scan the files.
  async () => {
    const pg = await startPostgres();
    process.env.TEST_DATABASE_URL = pg.url;
    process.env.TEST_PG_DATA_DIR = pg.dataDir;
    return () => pg.stop();
  },
];

export async function startTestServices(): Promise<TestServices> {
  const stops: Array<() => Promise<void>> = [];
  try {
    for (const start of starters) stops.push(await start());
  } catch (err) {
    for (const stop of stops.reverse()) await stop();
    throw err;
  }
  return {
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
