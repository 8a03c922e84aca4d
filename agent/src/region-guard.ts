/**
 * EU residency guard. A job is refused when the room, its caller, or any endpoint the call would send
 * audio or text to is outside the allowed regions:
 *
 * - regions named by LiveKit (room metadata `region`, dispatch metadata `region`, the publisher's
 *   `ParticipantInfo.region`) must match ALLOWED_REGIONS (`eu-central` matches `eu-central-1` too);
 * - endpoint hosts (LiveKit URL, Riva URL, LLM URL, control-API URL) must be on the EU host allow-list:
 *   loopback and private/in-cluster addresses (the cluster itself is deployed in the EU), hosts that
 *   name an EU region (`eu-central`, `europe-west3`, `.eu`), and hosts listed in ALLOWED_ENDPOINT_HOSTS
 *   (an exact host or a `.suffix`, e.g. an EU-resident LiveKit Cloud project).
 */
import { isIP } from 'node:net';

export interface RegionCheckInput {
  /** Regions LiveKit reported for this job (undefined or empty values are ignored). */
  regions: Array<{ source: string; region: string | undefined }>;
  /** Endpoint URLs the call would use (undefined = not configured). */
  endpoints: Array<{ name: string; url: string | undefined }>;
}

export interface RegionPolicy {
  allowedRegions: string[];
  allowedHosts: string[];
}

export type RegionVerdict =
  | { allowed: true }
  | { allowed: false; reason: string; source: string; value: string };

export function checkRegion(input: RegionCheckInput, policy: RegionPolicy): RegionVerdict {
  for (const { source, region } of input.regions) {
    if (!region || region.trim() === '') continue;
    if (!isAllowedRegion(region, policy.allowedRegions)) {
      return { allowed: false, reason: 'region not allowed', source, value: region };
    }
  }
  for (const { name, url } of input.endpoints) {
    if (!url) continue;
    const host = endpointHost(url);
    if (host === undefined)
      return { allowed: false, reason: 'endpoint URL not understood', source: name, value: url };
    if (!isEuHost(host, policy))
      return { allowed: false, reason: 'endpoint host not on the EU allow-list', source: name, value: host };
  }
  return { allowed: true };
}

export function isAllowedRegion(region: string, allowed: string[]): boolean {
  const r = region.trim().toLowerCase();
  return allowed.some((a) => {
    const want = a.trim().toLowerCase();
    return r === want || r.startsWith(`${want}-`) || new RegExp(`^${escapeRegex(want)}\\d+$`).test(r);
  });
}

/** The host of `scheme://host:port/...` or bare `host:port` (Riva's form). */
export function endpointHost(url: string): string | undefined {
  const raw = url.trim();
  try {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `grpc://${raw}`;
    const host = new URL(withScheme).hostname.toLowerCase();
    return host.replace(/^\[(.*)\]$/, '$1') || undefined;
  } catch {
    return undefined;
  }
}

const EU_HOST_PATTERNS = [
  /(^|[.-])eu-(central|west|north|south)(-\d+)?([.-]|$)/, // AWS style: eu-central-1
  /(^|[.-])europe-(west|north|central|southwest)\d*([.-]|$)/, // GCP style: europe-west3
  /(^|[.-])(westeurope|northeurope|germanywestcentral|francecentral|swedencentral)([.-]|$)/, // Azure
  /\.eu$/,
];

export function isEuHost(host: string, policy: Pick<RegionPolicy, 'allowedHosts'>): boolean {
  const h = host.toLowerCase();
  if (isLocalOrPrivate(h)) return true;
  for (const entry of policy.allowedHosts) {
    const e = entry.trim().toLowerCase();
    if (e === '') continue;
    if (e.startsWith('.') ? h.endsWith(e) || h === e.slice(1) : h === e) return true;
  }
  return EU_HOST_PATTERNS.some((p) => p.test(h));
}

function isLocalOrPrivate(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  // Kubernetes service names (`svc`, `svc.cluster.local`) and single-label names stay inside the cluster.
  if (host.endsWith('.svc') || host.endsWith('.cluster.local') || host.endsWith('.internal')) return true;
  const version = isIP(host);
  if (version === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  if (version === 6) return host === '::1' || host.startsWith('fc') || host.startsWith('fd');
  return !host.includes('.');
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Reads `region` from a JSON metadata string (room or dispatch metadata); anything else is ignored. */
export function regionFromMetadata(metadata: string | undefined): string | undefined {
  if (!metadata) return undefined;
  try {
    const parsed: unknown = JSON.parse(metadata);
    if (parsed && typeof parsed === 'object' && 'region' in parsed) {
      const region = (parsed as { region: unknown }).region;
      return typeof region === 'string' ? region : undefined;
    }
  } catch {
    // Not JSON: no region stated.
  }
  return undefined;
}
