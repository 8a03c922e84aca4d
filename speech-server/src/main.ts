/**
 * `npm run speech-server`: reads the environment once, starts the server, and drains on SIGTERM or
 * SIGINT (open streams get SPEECH_SERVER_GRACE_SECONDS to finish). A second signal exits at once.
 */
import { createLogger } from '../../common/src/logger.ts';
import { loadSpeechServerConfig } from './config.ts';
import { startSpeechServer } from './server.ts';

const config = loadSpeechServerConfig(process.env);
const logger = createLogger({ level: config.logLevel, service: 'speech-server' });
const server = await startSpeechServer({ ...config, logger });

let stopping = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (stopping) {
    logger.warn({ signal }, 'second signal, exiting now');
    server.forceStop();
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal, graceSeconds: config.graceSeconds }, 'draining');
  server.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
