/**
 * A private network namespace for WebRTC tests: libwebrtc ignores loopback, so the LiveKit server, the
 * agent and the callers run inside a namespace joined to the host by one veth pair with private /30
 * addresses picked here (10.231.N.1 on the host side, 10.231.N.2 inside). Media never leaves the pair;
 * nothing is routed anywhere else. Needs root (`ip netns add`).
 *
 * Names carry the owner's pid (`rca<pid>x<n>`), so a namespace left by a killed run is found and removed
 * by the next one.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PREFIX = 'rca';
const SUBNET_BASE = '10.231';

export interface NetworkNamespace {
  readonly name: string;
  /** Address of the host end of the veth pair (the root namespace reaches the namespace through it). */
  readonly hostAddress: string;
  /** Address inside the namespace: servers there bind to it. */
  readonly address: string;
  /** argv prefix that runs a command inside the namespace. */
  wrap(argv: readonly string[]): string[];
  destroy(): Promise<void>;
}

async function ip(args: string[]): Promise<string> {
  const { stdout } = await run('ip', args, { timeout: 10_000 });
  return stdout;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why namespaces cannot be made here, or undefined when they can (root and `ip` present). */
export async function netnsUnavailableReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  try {
    await ip(['netns', 'list']);
  } catch (err) {
    return `the ip command (iproute2) is not usable: ${(err as Error).message}`;
  }
  return undefined;
}

/** Removes namespaces (and their host-side veth ends) whose owning process is gone. */
export async function removeStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  const list = await ip(['netns', 'list']);
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^rca(\d+)x(\d+)$/.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    await ip(['netns', 'del', name]).catch(() => undefined);
    await ip(['link', 'del', `${name}h`]).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

let counter = 0;

async function usedSubnets(): Promise<Set<number>> {
  const out = await ip(['-o', '-4', 'addr', 'show']);
  const used = new Set<number>();
  for (const m of out.matchAll(/inet 10\.231\.(\d+)\./g)) used.add(Number(m[1]));
  return used;
}

export async function createNetworkNamespace(): Promise<NetworkNamespace> {
  await removeStaleNamespaces();
  counter += 1;
  const name = `${PREFIX}${process.pid}x${counter}`;
  const used = await usedSubnets();
  // A start point spread by pid, so parallel test files rarely probe the same subnet first.
  let subnet = -1;
  for (let i = 0; i < 250; i += 1) {
    const candidate = ((process.pid + counter * 17 + i) % 250) + 1;
    if (!used.has(candidate)) {
      subnet = candidate;
      break;
    }
  }
  if (subnet < 0) throw new Error('no free 10.231.N.0/30 subnet for a test namespace');
  const hostAddress = `${SUBNET_BASE}.${subnet}.1`;
  const address = `${SUBNET_BASE}.${subnet}.2`;
  const hostIf = `${name}h`;
  const nsIf = `${name}n`;
  const destroy = async () => {
    // Whatever still runs inside (a job process whose worker was killed) goes with the namespace.
    const pids = await ip(['netns', 'pids', name]).catch(() => '');
    for (const pid of pids.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ip(['netns', 'del', name]).catch(() => undefined);
    await ip(['link', 'del', hostIf]).catch(() => undefined);
  };
  try {
    await ip(['netns', 'add', name]);
    await ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    await ip(['link', 'set', nsIf, 'netns', name]);
    await ip(['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await ip(['link', 'set', hostIf, 'up']);
    const inNs = (args: string[]) => ip(['netns', 'exec', name, 'ip', ...args]);
    await inNs(['addr', 'add', `${address}/30`, 'dev', nsIf]);
    await inNs(['link', 'set', nsIf, 'up']);
    await inNs(['link', 'set', 'lo', 'up']);
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    name,
    hostAddress,
    address,
    wrap: (argv) => ['ip', 'netns', 'exec', name, ...argv],
    destroy,
  };
}
