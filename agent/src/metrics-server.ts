/**
 * Metrics and health over HTTP on METRICS_PORT: `/metrics`, `/healthz`, `/readyz`.
 *
 * LiveKit runs every call in its own forked process, so the main process alone cannot see call
 * latencies. Each job process pushes its registry (prom-client JSON) to `POST /internal/job-metrics`
 * on loopback every few seconds and when it ends; `/metrics` serves the main registry plus the sum
 * of every job's latest snapshot. Snapshots of finished jobs are folded into one retired total so
 * memory stays bounded and counters never go backwards.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';
import type { Logger } from '../../common/src/logger.ts';

type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

export interface MetricsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  logger: Logger;
  /** Ready to take calls (false while draining or before the worker registered). */
  isReady?: () => boolean;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

const MAX_PUSH_BYTES = 2 * 1024 * 1024;

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const live = new Map<number, MetricsJson>();
  let retired: MetricsJson | undefined;

  const render = async (): Promise<{ contentType: string; body: string }> => {
    const own = await options.registry.getMetricsAsJSON();
    const parts: MetricsJson[] = [own as MetricsJson, ...live.values(), ...(retired ? [retired] : [])];
    const merged = AggregatorRegistry.aggregate(parts);
    return { contentType: options.registry.contentType, body: await merged.metrics() };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      const { contentType, body } = await render();
      res.writeHead(200, { 'content-type': contentType }).end(body);
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
      const body = await readBody(req);
      const push = JSON.parse(body) as { pid: number; final: boolean; metrics: MetricsJson };
      if (push.final) {
        live.delete(push.pid);
        const merged = AggregatorRegistry.aggregate([push.metrics, ...(retired ? [retired] : [])]);
        retired = (await merged.getMetricsAsJSON()) as MetricsJson;
      } else {
        live.set(push.pid, push.metrics);
      }
      res.writeHead(204).end();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.warn({ err }, 'metrics request failed');
      if (!res.headersSent) res.writeHead(400).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PUSH_BYTES) {
        reject(new Error('push too large'));
        req.destroy();
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
