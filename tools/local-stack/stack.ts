/**
 * The local stack used by the end-to-end tests, the LiveKit benchmark and the demo: one network namespace
 * holding a real LiveKit server, the CPU speech server (or a Riva URL given by the caller), the control API
 * (PGlite in a temporary directory, or a PostgreSQL database URL) and any number of agent workers, each a
 * real process started like `npm run agent -- start`. Everything talks over the namespace address; the
 * process that starts the stack reaches it through the veth pair. `stop()` tears all of it down, namespace
 * included, and is safe to call more than once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startLiveKitServer } from './livekit-server.ts';
import { ManagedProcess, waitUntil } from './managed-process.ts';
import { createNetworkNamespace, type NetworkNamespace } from './netns.ts';

const NODE = process.execPath;
const TSX = ['--import', 'tsx'];

export interface LocalStackOptions {
  /** LiveKit region name written into the server config (the control API and the agent allow eu-central). */
  region?: string;
  /** Agent workers to start (each its own process); more can be added with `addWorker`. */
  workers?: number;
  /** Extra environment for every agent worker (for example RIVA_ENDPOINT_MS or FLOW_FILE). */
  agentEnv?: Record<string, string>;
  /** PostgreSQL URL of an empty database for the control API; PGlite in a temp directory when absent. */
  databaseUrl?: string;
  /** Riva to use instead of starting the CPU speech server (host:port reachable from the namespace). */
  rivaUrl?: string;
  /**
   * Instead of the CPU speech server: the benchmarks' minimal Riva server (next to no work per request), which
   * answers each utterance with the next line of this script.
   */
  minimalRivaScript?: string[];
  /** Seconds a room with nobody left in it stays (LiveKit's departure_timeout). */
  departureTimeoutSeconds?: number;
  /** Called with each output line of every process, prefixed by its name (for live logs in the demo). */
  onLine?: (name: string, line: string) => void;
}

export interface AgentWorker {
  readonly name: string;
  readonly process: ManagedProcess;
  readonly metricsUrl: string;
}

export interface LocalStack {
  readonly ns: NetworkNamespace;
  readonly workDir: string;
  readonly liveKit: {
    wsUrl: string;
    httpUrl: string;
    apiKey: string;
    apiSecret: string;
    process: ManagedProcess;
  };
  readonly controlApi: {
    url: string;
    adminToken: string;
    agentToken: string;
    dpoToken: string;
    process: ManagedProcess;
  };
  /** host:port of the speech server (or the Riva given in the options). */
  readonly rivaUrl: string;
  readonly speechServer?: ManagedProcess;
  readonly workers: AgentWorker[];
  addWorker(env?: Record<string, string>): Promise<AgentWorker>;
  /** Runs a command inside the namespace (for callers: WebRTC needs a non-loopback address). */
  wrap(argv: readonly string[]): string[];
  /** The last output of every process, for a failing test to print. */
  logs(maxPerProcess?: number): string;
  stop(): Promise<void>;
}

function token(): string {
  return randomBytes(18).toString('base64url');
}

function jsonLines(proc: ManagedProcess, msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const pattern = new RegExp(`"msg":"${msg}"`);
  return proc.waitForLine(pattern, timeoutMs).then((line) => JSON.parse(line) as Record<string, unknown>);
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const workDir = mkdtempSync(join(tmpdir(), 'rca-stack-'));
  const ns = await createNetworkNamespace();
  const procs: ManagedProcess[] = [];
  const workers: AgentWorker[] = [];
  const apiKey = `key${randomBytes(6).toString('hex')}`;
  const apiSecret = randomBytes(32).toString('base64url');
  const adminToken = token();
  const agentToken = token();
  const dpoToken = token();
  const region = opts.region ?? 'eu-central';
  let stopped = false;

  const spawn = (name: string, argv: string[], env: Record<string, string>, inNamespace = true) => {
    const proc = new ManagedProcess({
      name,
      argv: inNamespace ? ns.wrap(argv) : argv,
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      onLine: opts.onLine ? (line) => opts.onLine?.(name, line) : undefined,
    });
    procs.push(proc);
    return proc;
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Workers first (they drain into the others), then the services they use.
    await Promise.all([...procs].reverse().map((p) => p.stop(3000)));
    await ns.destroy();
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    // The control API needs no WebRTC: it runs beside the caller of this function (so a PostgreSQL on
    // loopback is reachable) and listens on the host end of the veth pair, where LiveKit's webhooks and the
    // agents inside the namespace reach it.
    const api = spawn(
      'control-api',
      [NODE, ...TSX, 'control-api/src/main.ts'],
      {
        HOST: ns.hostAddress,
        PORT: '0',
        ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : { DATA_DIR: join(workDir, 'pglite') }),
        KEY_STORE_DIR: join(workDir, 'keys'),
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        CONTROL_API_TOKENS: `admin:${adminToken},agent:${agentToken},dpo:${dpoToken}`,
        LIVEKIT_URL: `http://${ns.address}:7880`,
        LIVEKIT_API_KEY: apiKey,
        LIVEKIT_API_SECRET: apiSecret,
        ALLOWED_REGIONS: 'eu-central',
        RECONCILE_INTERVAL_SECONDS: '5',
      },
      false,
    );
    const listening = await jsonLines(api, 'control api listening', 60_000);
    const apiUrl = `http://${ns.hostAddress}:${String(listening.port)}`;

    const liveKit = await startLiveKitServer(
      ns,
      {
        apiKey,
        apiSecret,
        region,
        webhookUrls: [`${apiUrl}/v1/webhooks/livekit`],
        departureTimeoutSeconds: opts.departureTimeoutSeconds ?? 5,
      },
      workDir,
      opts.onLine,
    );
    procs.push(liveKit.process);

    let rivaUrl = opts.rivaUrl;
    let speechServer: ManagedProcess | undefined;
    if (!rivaUrl && opts.minimalRivaScript) {
      speechServer = spawn(
        'minimal-riva',
        [
          NODE,
          ...TSX,
          'bench/support/minimal-riva-server.ts',
          '--serve',
          '--until-signal',
          '--host',
          ns.address,
          '--script',
          JSON.stringify(opts.minimalRivaScript),
        ],
        {},
      );
      rivaUrl = (await speechServer.waitForLine(/^\d+\.\d+\.\d+\.\d+:\d+$/, 60_000)).trim();
    } else if (!rivaUrl) {
      speechServer = spawn('speech-server', [NODE, ...TSX, 'speech-server/src/main.ts'], {
        SPEECH_SERVER_HOST: ns.address,
        SPEECH_SERVER_PORT: '0',
      });
      const ready = await jsonLines(speechServer, 'speech server listening', 60_000);
      rivaUrl = String(ready.address);
    }
    const riva = rivaUrl;

    const addWorker = async (env: Record<string, string> = {}): Promise<AgentWorker> => {
      const n = workers.length;
      const name = `agent-${n + 1}`;
      const metricsPort = 9100 + n;
      const proc = spawn(name, [NODE, ...TSX, 'agent/src/main.ts', 'start'], {
        LIVEKIT_URL: liveKit.wsUrl,
        LIVEKIT_API_KEY: apiKey,
        LIVEKIT_API_SECRET: apiSecret,
        RIVA_URL: riva,
        CONTROL_API_URL: apiUrl,
        CONTROL_API_TOKEN: agentToken,
        METRICS_PORT: String(metricsPort),
        WORKER_HTTP_PORT: String(8081 + n),
        TRANSCRIPT_SPOOL_FILE: join(workDir, `${name}-spool.jsonl`),
        // Every service of the stack shares this machine's cores: admit by call count only.
        CPU_ADMISSION: 'false',
        ...opts.agentEnv,
        ...env,
      });
      await proc.waitForLine(/registered worker/, 90_000);
      const worker = { name, process: proc, metricsUrl: `http://${ns.address}:${metricsPort}/metrics` };
      workers.push(worker);
      return worker;
    };
    for (let i = 0; i < (opts.workers ?? 1); i += 1) await addWorker();

    await waitUntil(
      'control api ready',
      async () => (await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).ok,
      30_000,
    );

    return {
      ns,
      workDir,
      liveKit: {
        wsUrl: liveKit.wsUrl,
        httpUrl: liveKit.httpUrl,
        apiKey,
        apiSecret,
        process: liveKit.process,
      },
      controlApi: { url: apiUrl, adminToken, agentToken, dpoToken, process: api },
      rivaUrl: riva,
      speechServer,
      workers,
      addWorker,
      wrap: (argv) => ns.wrap(argv),
      logs: (max = 6000) =>
        procs.map((p) => `----- ${p.name} (last ${max} chars) -----\n${p.output().slice(-max)}`).join('\n'),
      stop,
    };
  } catch (err) {
    const logs = procs.map((p) => `----- ${p.name} -----\n${p.output().slice(-4000)}`).join('\n');
    await stop();
    throw new Error(`local stack failed to start: ${(err as Error).message}\n${logs}`);
  }
}
