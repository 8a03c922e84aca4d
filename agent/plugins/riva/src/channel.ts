/**
 * One gRPC channel to a Riva server (self-hosted or NVIDIA-hosted) and the typed clients that share it.
 *
 * Why per-call metadata: NVIDIA's hosted service wants `authorization: Bearer <key>` and `function-id` on
 * every call, and grpc-js refuses call credentials on insecure channels, so a self-hosted plaintext Riva
 * behind an auth proxy would be impossible with them. Metadata works for both.
 */
import * as grpc from '@grpc/grpc-js';
import {
  type HealthClient,
  loadRivaProtos,
  type RivaSpeechRecognitionClient,
  type RivaSpeechSynthesisClient,
} from '../../../../proto/src/index.ts';

export interface RivaConnectionOptions {
  /** `host:port` (plaintext unless `tls`), `grpc://host:port`, or `grpcs://host:port` for TLS. */
  url: string;
  /** Use TLS (implied by `grpcs://`). */
  tls?: boolean;
  /** PEM root certificate(s) to trust instead of the system store. Implies TLS. */
  caCert?: Buffer;
  /** PEM client certificate for mutual TLS (needs `clientKey`). Implies TLS. */
  clientCert?: Buffer;
  /** PEM client private key for mutual TLS (needs `clientCert`). */
  clientKey?: Buffer;
  /** Override the TLS server name checked against the certificate (e.g. when dialling an IP). */
  serverNameOverride?: string;
  /** NVIDIA API key, sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** NVCF function id, sent as `function-id` on every call. */
  functionId?: string;
  /** Extra metadata sent on every call. */
  metadata?: Record<string, string>;
  /** HTTP/2 keepalive ping interval in ms; 0 disables. Default 30000. */
  keepaliveMs?: number;
  /** How long `waitForReady()`/`checkHealth()` wait for the connection. Default 5000. */
  connectTimeoutMs?: number;
  /** Deadline for unary calls (Recognize, Synthesize, config, health) in ms. Default 10000. */
  unaryTimeoutMs?: number;
  /** Attempts for unary calls on UNAVAILABLE (gRPC retry policy, service config). Default 3. */
  unaryMaxAttempts?: number;
  /** Upper bound for the channel's own reconnect backoff in ms. Default 5000. */
  maxReconnectBackoffMs?: number;
}

export interface ParsedRivaUrl {
  /** gRPC target (`host:port`). */
  target: string;
  tls: boolean;
}

const URL_HELP = 'expected "host:port", "grpc://host:port" or "grpcs://host:port"';

/** Parses a Riva URL; throws an error naming the bad value. */
export function parseRivaUrl(url: string): ParsedRivaUrl {
  const raw = typeof url === 'string' ? url.trim() : '';
  const bad = (why: string): Error =>
    new Error(`Invalid Riva url ${JSON.stringify(url)}: ${why}; ${URL_HELP}`);
  if (!raw) throw bad('empty');
  let tls = false;
  let rest = raw;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(raw);
  if (scheme) {
    const name = scheme[1]!.toLowerCase();
    if (name === 'grpcs') tls = true;
    else if (name !== 'grpc') throw bad(`unsupported scheme "${name}"`);
    rest = scheme[2]!;
  }
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (rest.includes('/')) throw bad('a path is not allowed');
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(rest);
  if (!m) throw bad('missing or malformed host:port');
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw bad(`port ${port} out of range`);
  return { target: `${m[1]}:${port}`, tls };
}

const UNARY_METHODS = [
  { service: 'nvidia.riva.asr.RivaSpeechRecognition', method: 'Recognize' },
  { service: 'nvidia.riva.asr.RivaSpeechRecognition', method: 'GetRivaSpeechRecognitionConfig' },
  { service: 'nvidia.riva.tts.RivaSpeechSynthesis', method: 'Synthesize' },
  { service: 'nvidia.riva.tts.RivaSpeechSynthesis', method: 'GetRivaSynthesisConfig' },
  { service: 'grpc.health.v1.Health', method: 'Check' },
];

/** Service config: retry unary calls on UNAVAILABLE only (they are idempotent; streams reconnect in the plugin). */
export function unaryRetryServiceConfig(maxAttempts: number): string {
  return JSON.stringify({
    methodConfig: [
      {
        name: UNARY_METHODS,
        retryPolicy: {
          maxAttempts,
          initialBackoff: '0.05s',
          maxBackoff: '1s',
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  });
}

function positiveInt(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min) {
    throw new Error(
      `Invalid Riva connection option "${name}": expected an integer >= ${min}, got ${String(v)}`,
    );
  }
  return v;
}

/** A channel plus typed clients; create once per process (or per STT/TTS) and close when done. */
export class RivaChannel {
  readonly target: string;
  readonly tls: boolean;
  readonly asr: RivaSpeechRecognitionClient;
  readonly tts: RivaSpeechSynthesisClient;
  readonly health: HealthClient;
  readonly unaryTimeoutMs: number;
  readonly connectTimeoutMs: number;
  #metadata: grpc.Metadata;
  #closed = false;

  constructor(opts: RivaConnectionOptions) {
    if (!opts || typeof opts !== 'object') throw new Error('Riva connection options are required ({ url })');
    const { target, tls: urlTls } = parseRivaUrl(opts.url);
    if (Boolean(opts.clientCert) !== Boolean(opts.clientKey)) {
      throw new Error('Invalid Riva connection options: "clientCert" and "clientKey" must be given together');
    }
    const tls = urlTls || opts.tls === true || Boolean(opts.caCert || opts.clientCert);
    if (opts.tls === false && urlTls) {
      throw new Error(`Invalid Riva connection options: "tls: false" contradicts url ${opts.url}`);
    }
    this.target = target;
    this.tls = tls;
    this.unaryTimeoutMs = positiveInt('unaryTimeoutMs', opts.unaryTimeoutMs, 10_000, 1);
    this.connectTimeoutMs = positiveInt('connectTimeoutMs', opts.connectTimeoutMs, 5_000, 1);
    const keepaliveMs = positiveInt('keepaliveMs', opts.keepaliveMs, 30_000, 0);
    const maxAttempts = positiveInt('unaryMaxAttempts', opts.unaryMaxAttempts, 3, 1);
    const maxBackoff = positiveInt('maxReconnectBackoffMs', opts.maxReconnectBackoffMs, 5_000, 100);

    const creds = tls
      ? grpc.credentials.createSsl(opts.caCert ?? null, opts.clientKey ?? null, opts.clientCert ?? null)
      : grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = {
      // grpc-js rejects a retry policy with fewer than 2 attempts: 1 means "no retry policy".
      ...(maxAttempts >= 2 ? { 'grpc.service_config': unaryRetryServiceConfig(maxAttempts) } : {}),
      'grpc.enable_retries': 1,
      // grpc-js defaults to 1 s initial / 120 s max reconnect backoff: far too slow to follow a Riva restart.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': maxBackoff,
      // Offline TTS of a long reply and Recognize of minutes of audio exceed the 4 MB default.
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    };
    if (keepaliveMs > 0) {
      // Pings only while calls are open: servers (grpc C++) punish pings on idle connections with GOAWAY.
      channelOptions['grpc.keepalive_time_ms'] = keepaliveMs;
      channelOptions['grpc.keepalive_timeout_ms'] = 10_000;
      channelOptions['grpc.keepalive_permit_without_calls'] = 0;
    }
    if (opts.serverNameOverride) channelOptions['grpc.ssl_target_name_override'] = opts.serverNameOverride;

    const protos = loadRivaProtos();
    this.asr = new protos.asr.RivaSpeechRecognition(target, creds, channelOptions);
    const shared = { ...channelOptions, channelOverride: this.asr.getChannel() };
    this.tts = new protos.tts.RivaSpeechSynthesis(target, creds, shared);
    this.health = new protos.health.Health(target, creds, shared);

    const md = new grpc.Metadata();
    if (opts.apiKey) md.set('authorization', `Bearer ${opts.apiKey}`);
    if (opts.functionId) md.set('function-id', opts.functionId);
    for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k.toLowerCase(), v);
    this.#metadata = md;
  }

  /** A fresh copy of the per-call metadata (grpc-js may mutate what it is given). */
  metadata(): grpc.Metadata {
    return this.#metadata.clone();
  }

  /** Call options for a unary call: deadline from `unaryTimeoutMs` unless given. */
  unaryOptions(timeoutMs: number = this.unaryTimeoutMs): grpc.CallOptions {
    return { deadline: Date.now() + timeoutMs };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the channel is connected; rejects with a message naming the target otherwise. */
  waitForReady(timeoutMs: number = this.connectTimeoutMs): Promise<void> {
    return new Promise((resolve, reject) => {
      this.asr.waitForReady(Date.now() + timeoutMs, (err) => {
        if (err)
          reject(
            new Error(`Riva at ${this.target} is not reachable within ${timeoutMs} ms (${err.message})`),
          );
        else resolve();
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // The three clients share one channel: closing it once closes all of them.
    this.asr.close();
  }
}

/** Creates a channel to Riva: plaintext, TLS or mutual TLS, with keepalive and a unary retry policy. */
export function createRivaChannel(opts: RivaConnectionOptions): RivaChannel {
  return new RivaChannel(opts);
}

/** Accepts either options (the caller then owns a new channel) or an existing channel (shared). */
export function resolveChannel(conn: RivaConnectionOptions | RivaChannel): {
  channel: RivaChannel;
  owned: boolean;
} {
  if (conn instanceof RivaChannel) return { channel: conn, owned: false };
  return { channel: createRivaChannel(conn), owned: true };
}
