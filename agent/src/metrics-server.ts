/**
 * Metrics and health over HTTP on METRICS_PORT: `/metrics`, `/healthz`, `/readyz`.
 *
 * LiveKit runs every call in its own forked process, so the main process alone cannot see call
 * latencies. Each job process pushes its registry (prom-client JSON) to `POST /internal/job-metrics`
 * on loopback every few seconds and when it ends; `/metrics` serves the main registry plus the sum
 * of every job's latest snapshot. Pushes are checked and bounded before they are kept, and a finished
 * job's series are dropped (its counters folded into a retired total): see job-metrics.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../../common/src/logger.ts';
import { createJobMetricsStore, type MetricsJson, type PushLimits } from './job-metrics.ts';

export interface MetricsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  logger: Logger;
  /** Ready to take calls (false while draining or before the worker registered). */
  isReady?: () => boolean;
  /** Bounds on job pushes (defaults in job-metrics.ts). */
  pushLimits?: Partial<PushLimits>;
  now?: () => number;
}

export interface MetricsServer {
  port: number;
  /** Drops a job process's series now (when its exit is seen before its final push). */
  endJob(pid: number): Promise<void>;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const store = createJobMetricsStore({
    own: async () => (await options.registry.getMetricsAsJSON()) as unknown as MetricsJson,
    ...(options.pushLimits ? { limits: options.pushLimits } : {}),
    ...(options.now ? { now: options.now } : {}),
  });

  const render = async (): Promise<string> => {
    try {
      return await store.render();
    } catch (err) {
      // Pushes are checked before they are kept, so this should not happen; if it does, the main process's own
      // metrics are still served rather than an error.
      options.logger.warn({ err }, 'job metrics could not be summed');
      return options.registry.metrics();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      const body = await render();
      res.writeHead(200, { 'content-type': options.registry.contentType }).end(body);
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (req.method === 'GET' && path === '/readyz') {
      const ready = options.isReady?.() ?? true;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    if (req.method === 'POST' && path === '/internal/job-metrics') {
      // Only job processes on this machine may push.
      const remote = req.socket.remoteAddress ?? '';
      if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(remote)) {
        res.writeHead(403).end();
        return;
      }
      let body: string;
      try {
        body = await readBody(req, store.limits.maxBytes);
      } catch (err) {
        const tooLarge = err instanceof BodyTooLarge;
        res.writeHead(tooLarge ? 413 : 400, { 'content-type': 'text/plain', connection: 'close' });
        res.end(tooLarge ? `push larger than ${store.limits.maxBytes} bytes\n` : 'unreadable push\n');
        return;
      }
      const outcome = await store.accept(body);
      if (outcome.status === 204) {
        res.writeHead(204).end();
        return;
      }
      options.logger.warn({ status: outcome.status }, 'job metrics push refused');
      res.writeHead(outcome.status, { 'content-type': 'text/plain' }).end(`${outcome.problem}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.warn({ err }, 'metrics request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    endJob: (pid) => store.endJob(pid),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Reads the body up to `max` bytes; stops reading (without buffering the rest) beyond. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    req.resume();
    return Promise.reject(new BodyTooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** In a job process: pushes the job's registry to the main process periodically and once at the end. */
export function startJobMetricsPush(options: {
  registry: Registry;
  port: number;
  intervalMs?: number;
  onError?: () => void;
}): { stop(): Promise<void> } {
  const push = async (final: boolean) => {
    try {
      const metrics = await options.registry.getMetricsAsJSON();
      await fetch(`http://127.0.0.1:${options.port}/internal/job-metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pid: process.pid, final, metrics }),
        signal: AbortSignal.timeout(2000),
      });
    } catch {
      options.onError?.();
    }
  };
  const timer = setInterval(() => void push(false), options.intervalMs ?? 5000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await push(true);
    },
  };
}
