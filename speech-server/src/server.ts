/**
 * The Riva-compatible CPU speech server: RivaSpeechRecognition (PocketSphinx), RivaSpeechSynthesis
 * (flite) and grpc.health.v1.Health on one gRPC port.
 *
 * Startup is fast (bind + protos, no model loading on the critical path): decoders warm up in the
 * background and a stream that arrives first simply waits ~0.3 s for its decoder. `stop()` drains
 * (health NOT_SERVING, new calls UNAVAILABLE, open streams finish up to the grace period);
 * `forceStop()` cuts every call at once, like a crash, for resilience tests.
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { createLogger, type Logger } from '../../common/src/logger.ts';
import {
  type HealthCheckRequest__Output,
  type HealthCheckResponse,
  type HealthHandlers,
  loadRivaProtos,
} from '../../proto/src/index.ts';
import { DecoderPool } from './asr/decoder-pool.ts';
import { createAsrHandlers } from './asr/service.ts';
import { StreamSlots } from './rpc.ts';
import { serverCredentials, type TlsMaterial } from './tls.ts';
import { Flite } from './tts/flite.ts';
import { createTtsHandlers } from './tts/service.ts';

export interface SpeechServerOptions {
  host: string;
  /** 0 picks a free port (tests, in-process simulated calls). */
  port: number;
  /** Concurrent ASR + TTS calls before RESOURCE_EXHAUSTED. */
  maxStreams: number;
  /** How long stop() lets open streams finish. */
  graceSeconds: number;
  /** Largest gRPC message received or sent. */
  maxMessageBytes: number;
  /** Decoders kept loaded for new streams. */
  warmDecoders: number;
  /** Extra PocketSphinx flags (e.g. ['-maxhmmpf', '3000'] on a slow machine). */
  decoderArgs: string[];
  /** A stream that sends nothing for this long is ended with DEADLINE_EXCEEDED. */
  idleTimeoutMs: number;
  /** Server keepalive ping interval, and how long an unanswered ping may take before the peer is dropped. */
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  /** TLS (and mTLS with clientCa); unset = plaintext. */
  tls?: TlsMaterial | undefined;
  logger?: Logger;
}

export const DEFAULT_SPEECH_SERVER_OPTIONS: SpeechServerOptions = {
  host: '127.0.0.1',
  port: 50051,
  maxStreams: 8,
  graceSeconds: 10,
  maxMessageBytes: 4 * 1024 * 1024,
  warmDecoders: 2,
  decoderArgs: [],
  idleTimeoutMs: 60_000,
  keepaliveMs: 30_000,
  keepaliveTimeoutMs: 10_000,
};

export interface SpeechServer {
  port: number;
  address: string;
  /** Graceful: refuse new calls, let open ones finish up to graceSeconds, then cut the rest. */
  stop(): Promise<void>;
  /** Immediate: every open call ends with an error, as if the process had died. */
  forceStop(): void;
  /** Resolves when the warm decoders have loaded (handy for benchmarks; not needed to serve). */
  warmed: Promise<void>;
  /** Milliseconds from the call to listening. */
  startupMs: number;
  /** Speech calls open right now (ASR and TTS). */
  readonly activeStreams: number;
}

/** Part of the grace period kept for freeing decoders after the streams are done or cut. */
const TEARDOWN_RESERVE_MS = 1000;
const MIN_TEARDOWN_MS = 200;
/** The end of the grace period kept for the caller to flush its log and exit. */
const EXIT_RESERVE_MS = 250;

const SERVICES = ['', 'nvidia.riva.asr.RivaSpeechRecognition', 'nvidia.riva.tts.RivaSpeechSynthesis'];

type ServingStatus = 'SERVING' | 'NOT_SERVING';

function healthHandlers(getStatus: () => ServingStatus, changes: EventEmitter): HealthHandlers {
  const statusFor = (service: string): HealthCheckResponse['status'] | undefined =>
    SERVICES.includes(service) ? getStatus() : undefined;
  return {
    Check(call: grpc.ServerUnaryCall<HealthCheckRequest__Output, HealthCheckResponse>, callback) {
      const status = statusFor(call.request.service ?? '');
      if (!status) callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else callback(null, { status });
    },
    Watch(call) {
      const service = call.request.service ?? '';
      const send = () => call.write({ status: statusFor(service) ?? 'SERVICE_UNKNOWN' });
      send();
      const onShutdown = () => {
        stop();
        call.end();
      };
      const stop = () => {
        changes.off('change', send);
        changes.off('shutdown', onShutdown);
      };
      changes.on('change', send);
      changes.once('shutdown', onShutdown);
      call.on('cancelled', stop);
      call.on('close', stop);
    },
  };
}

export async function startSpeechServer(options: Partial<SpeechServerOptions> = {}): Promise<SpeechServer> {
  const started = performance.now();
  const opts: SpeechServerOptions = { ...DEFAULT_SPEECH_SERVER_OPTIONS, ...options };
  const logger = opts.logger ?? createLogger({ level: 'info', service: 'speech-server' });
  const protos = loadRivaProtos();
  const slots = new StreamSlots(opts.maxStreams);
  const pool = new DecoderPool({
    keepWarm: Math.min(opts.warmDecoders, opts.maxStreams),
    // A stream's slot covers its decoder, so there are never more busy decoders than slots; a warm one
    // beyond that could not be used (no slot for its stream), so none is loaded past the limit.
    maxDecoders: opts.maxStreams,
    extraArgs: opts.decoderArgs,
    logger,
  });
  const flite = new Flite();
  let status: ServingStatus = 'NOT_SERVING';
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  const setStatus = (s: ServingStatus) => {
    status = s;
    changes.emit('change');
  };

  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': opts.maxMessageBytes,
    // Idle phone calls keep a stream open for minutes; answer client keepalive pings.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    // Ping every peer; one that does not answer (crashed, frozen, cut off) is dropped with its calls.
    'grpc.keepalive_time_ms': opts.keepaliveMs,
    'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs,
  });
  const idleTimeoutMs = opts.idleTimeoutMs;
  server.addService(
    protos.asr.RivaSpeechRecognition.service,
    createAsrHandlers({ pool, slots, logger, idleTimeoutMs }),
  );
  server.addService(
    protos.tts.RivaSpeechSynthesis.service,
    createTtsHandlers({ flite, slots, logger, idleTimeoutMs, maxMessageBytes: opts.maxMessageBytes }),
  );
  server.addService(
    protos.health.Health.service,
    healthHandlers(() => status, changes),
  );

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, serverCredentials(opts.tls), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  }).catch((err: unknown) => {
    flite.close();
    throw err;
  });
  setStatus('SERVING');
  const startupMs = performance.now() - started;
  const address = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  logger.info(
    { address, startupMs: Math.round(startupMs), maxStreams: opts.maxStreams },
    'speech server listening',
  );
  const warmed = pool.warm();

  let stopped = false;
  /** Frees decoders; waits for their threads at most `waitMs` (a stuck one is abandoned to the exit). */
  const teardown = async (waitMs: number) => {
    changes.emit('shutdown');
    await pool.close(waitMs);
    flite.close();
  };

  return {
    port,
    address,
    startupMs,
    warmed,
    get activeStreams() {
      return slots.active;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      const deadline = performance.now() + opts.graceSeconds * 1000;
      setStatus('NOT_SERVING');
      slots.drain();
      // Streams get the grace period minus a reserve for freeing decoders, so stop() ends within it.
      const streamsMs = Math.max(0, opts.graceSeconds * 1000 - TEARDOWN_RESERVE_MS);
      const grace = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), streamsMs).unref(),
      );
      const outcome = await Promise.race([slots.idle().then(() => 'idle' as const), grace]);
      if (outcome === 'timeout')
        logger.warn({ open: slots.active }, 'grace period over, cutting open streams');
      // Health Watch streams hold no slot but would keep tryShutdown waiting: end them first.
      changes.emit('shutdown');
      // tryShutdown waits for every open HTTP/2 stream; it gets what is left of the streams' share.
      await new Promise<void>((resolve) => {
        const cut = () => {
          server.forceShutdown();
          resolve();
        };
        if (outcome === 'timeout') return cut();
        const left = Math.max(0, deadline - TEARDOWN_RESERVE_MS - performance.now());
        const timer = setTimeout(cut, left);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await teardown(Math.max(MIN_TEARDOWN_MS, deadline - EXIT_RESERVE_MS - performance.now()));
      logger.info({}, 'speech server stopped');
    },
    forceStop() {
      if (stopped) return;
      stopped = true;
      status = 'NOT_SERVING';
      server.forceShutdown();
      void teardown(MIN_TEARDOWN_MS);
    },
  };
}
