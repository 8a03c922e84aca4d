/**
 * The LiveKit server of the local stack: finds the binary (`.tools/bin/livekit-server` from bootstrap, or
 * one on PATH), writes a config for one namespace address (no STUN, no loopback candidates, real API keys,
 * webhooks signed with that key) and starts it inside the namespace.
 */
import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ManagedProcess, waitUntil } from './managed-process.ts';
import type { NetworkNamespace } from './netns.ts';

export const REPO_ROOT = resolve(new URL('../..', import.meta.url).pathname);

export interface LiveKitServerSettings {
  apiKey: string;
  apiSecret: string;
  region: string;
  webhookUrls: string[];
  /** Seconds a room stays open with nobody in it. */
  emptyTimeoutSeconds?: number;
  /** Seconds a room stays open after the last participant left. */
  departureTimeoutSeconds?: number;
}

export interface RunningLiveKitServer {
  readonly process: ManagedProcess;
  /** ws:// URL for participants and the agent worker (inside the namespace). */
  readonly wsUrl: string;
  /** http:// URL of the server API (reachable from the host through the veth pair too). */
  readonly httpUrl: string;
}

/** The livekit-server binary to use, or undefined when none is installed. */
export function findLiveKitServer(): string | undefined {
  const candidates = [join(REPO_ROOT, '.tools/bin/livekit-server')];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir) candidates.push(join(dir, 'livekit-server'));
  }
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return undefined;
}

export function liveKitConfig(ns: NetworkNamespace, s: LiveKitServerSettings): Record<string, unknown> {
  return {
    port: 7880,
    bind_addresses: [ns.address, '127.0.0.1'],
    rtc: {
      tcp_port: 7881,
      udp_port: 7882,
      // No internet here: never ask a STUN server for an external address.
      use_external_ip: false,
      node_ip: ns.address,
      enable_loopback_candidate: false,
    },
    keys: { [s.apiKey]: s.apiSecret },
    webhook: { api_key: s.apiKey, urls: s.webhookUrls },
    region: s.region,
    room: {
      empty_timeout: s.emptyTimeoutSeconds ?? 30,
      departure_timeout: s.departureTimeoutSeconds ?? 5,
    },
    logging: { level: 'info', json: true },
  };
}

export async function startLiveKitServer(
  ns: NetworkNamespace,
  settings: LiveKitServerSettings,
  workDir: string,
  onLine?: (name: string, line: string) => void,
): Promise<RunningLiveKitServer> {
  const binary = findLiveKitServer();
  if (!binary) throw new Error('no livekit-server: run scripts/bootstrap.sh (it builds one into .tools/bin)');
  const configFile = join(workDir, 'livekit.yaml');
  writeFileSync(configFile, stringify(liveKitConfig(ns, settings)), { mode: 0o600 });
  const proc = new ManagedProcess({
    name: 'livekit-server',
    argv: ns.wrap([binary, '--config', configFile]),
    onLine: onLine ? (line) => onLine('livekit-server', line) : undefined,
  });
  const httpUrl = `http://${ns.address}:7880`;
  try {
    await waitUntil(
      'livekit-server',
      async () => {
        if (!proc.running) throw new Error(`exited: ${proc.output().slice(-2000)}`);
        const res = await fetch(httpUrl, { signal: AbortSignal.timeout(1000) });
        return res.ok;
      },
      30_000,
    );
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
  return { process: proc, wsUrl: `ws://${ns.address}:7880`, httpUrl };
}
