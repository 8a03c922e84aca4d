/**
 * `npm run speech-server`: reads the environment once, starts the server, and drains on SIGTERM or
 * SIGINT (open streams get SPEECH_SERVER_GRACE_SECONDS to finish, and the process has exited by then
 * whatever its decoder threads are doing). A second signal exits at once.
 */
import { createLogger } from '../../common/src/logger.ts';
import { loadSpeechServerConfig } from './config.ts';
import { hardExit } from './libc.ts';
import { startSpeechServer } from './server.ts';
import { readTlsFiles } from './tls.ts';

/** With a grace of 0, stop() still gets this long to cut its calls. */
const MIN_BACKSTOP_MS = 250;

const config = loadSpeechServerConfig(process.env);
// process.stdout writes synchronously to files and pipes on Linux (pino's default destination does not),
// so no line is lost when the process ends with _exit.
const logger = createLogger({
  level: config.logLevel,
  service: 'speech-server',
  destination: process.stdout,
});
const tls = config.tlsFiles ? readTlsFiles(config.tlsFiles) : undefined;
const server = await startSpeechServer({ ...config, tls, logger });
/** After stop() has resolved the process must end even if a decoder thread is inside a native call. */
const exitNow = (code: number): never => hardExit(code);

let stopping = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (stopping) {
    logger.warn({ signal }, 'second signal, exiting now');
    server.forceStop();
    exitNow(1);
  }
  stopping = true;
  logger.info({ signal, graceSeconds: config.graceSeconds }, 'draining');
  // Backstop: whatever stop() is waiting for, the process is gone when the grace period is over.
  // (Not unref'd: a natural exit would join a decoder thread stuck in a native call, and hang.)
  setTimeout(() => exitNow(1), Math.max(config.graceSeconds * 1000, MIN_BACKSTOP_MS));
  server.stop().then(
    () => exitNow(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      exitNow(1);
    },
  );
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
