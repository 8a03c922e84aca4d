/**
 * Servers shared by the whole test run. Starters register here; each returns a stop function and may
 * publish connection details through process.env for the test files (the only place env is written).
 */
export interface TestServices {
  stop(): Promise<void>;
}

type Starter = () => Promise<() => Promise<void>>;

const starters: Starter[] = [];

export async function startTestServices(): Promise<TestServices> {
  const stops: Array<() => Promise<void>> = [];
  for (const start of starters) stops.push(await start());
  return {
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
