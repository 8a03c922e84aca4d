/**
 * Global test setup. Each service can register servers it needs here (PostgreSQL, the speech server);
 * they are started once for the whole run and stopped at the end.
 */
import { startTestServices } from './services.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const services = await startTestServices();
  return async () => {
    await services.stop();
  };
}
