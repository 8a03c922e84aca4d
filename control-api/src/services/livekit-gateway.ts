/**
 * The LiveKit boundary: rooms, agent dispatch, caller tokens. Uses livekit-server-sdk with cross-region
 * failover off (EU residency) and a request timeout on every call.
 */
import { randomUUID } from 'node:crypto';
import { AccessToken, AgentDispatchClient, RoomServiceClient, TrackSource } from 'livekit-server-sdk';
import type { ControlApiMetrics } from '../metrics.ts';

export interface LiveKitParticipant {
  identity: string;
  kind: ParticipantKind;
}

export type ParticipantKind = 'standard' | 'agent' | 'sip' | 'ingress' | 'egress';

export interface LiveKitGateway {
  createRoom(name: string, metadata: string): Promise<void>;
  dispatchAgent(room: string, metadata: string): Promise<string>;
  /**
   * Sends a new agent into a room whose agent was lost, with the first dispatch's metadata plus
   * `"resumed": true`; returns the new dispatch id, or undefined when the room has no dispatch to repeat.
   */
  redispatchAgent(room: string): Promise<string | undefined>;
  /** Ends the call; a room LiveKit no longer knows counts as ended. */
  deleteRoom(name: string): Promise<void>;
  listRooms(names: string[]): Promise<string[]>;
  listParticipants(room: string): Promise<LiveKitParticipant[]>;
  callerToken(room: string, identity: string): Promise<string>;
  newCallerIdentity(): string;
}

export interface LiveKitConfig {
  url: string;
  apiKey: string;
  apiSecret: string;
  timeoutSeconds: number;
  agentName: string;
}

/**
 * `ParticipantInfo.Kind` values (livekit/protocol livekit_models.proto). The enum is not re-exported by
 * livekit-server-sdk, and @livekit/protocol is not a direct dependency.
 */
const KINDS: Record<number, ParticipantKind> = {
  0: 'standard',
  1: 'ingress',
  2: 'egress',
  3: 'sip',
  4: 'agent',
};

export function participantKind(kind: number | undefined): ParticipantKind {
  return KINDS[kind ?? 0] ?? 'standard';
}

export function createLiveKitGateway(config: LiveKitConfig, metrics: ControlApiMetrics): LiveKitGateway {
  const options = { requestTimeout: config.timeoutSeconds, failover: false };
  const rooms = new RoomServiceClient(config.url, config.apiKey, config.apiSecret, options);
  const dispatch = new AgentDispatchClient(config.url, config.apiKey, config.apiSecret, options);

  async function observe<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      metrics.livekitRequests.inc({ method, outcome: 'ok' });
      return out;
    } catch (err) {
      metrics.livekitRequests.inc({ method, outcome: 'error' });
      throw err;
    }
  }

  return {
    async createRoom(name, metadata) {
      // emptyTimeout: a caller who never joins does not keep the room (and its agent) alive.
      await observe('CreateRoom', () =>
        rooms.createRoom({ name, emptyTimeout: 120, departureTimeout: 20, maxParticipants: 4, metadata }),
      );
    },
    async dispatchAgent(room, metadata) {
      const d = await observe('CreateDispatch', () =>
        dispatch.createDispatch(room, config.agentName, { metadata }),
      );
      return d.id;
    },
    async redispatchAgent(room) {
      const existing = await observe('ListDispatch', () => dispatch.listDispatch(room));
      const first = existing.find((d) => d.agentName === config.agentName);
      if (!first) return undefined;
      let metadata: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(first.metadata || '{}');
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          metadata = parsed as Record<string, unknown>;
        }
      } catch {
        // Not ours: send the new agent without it.
      }
      const d = await observe('CreateDispatch', () =>
        dispatch.createDispatch(room, config.agentName, {
          metadata: JSON.stringify({ ...metadata, resumed: true }),
        }),
      );
      return d.id;
    },
    async deleteRoom(name) {
      try {
        await observe('DeleteRoom', () => rooms.deleteRoom(name));
      } catch (err) {
        if ((err as { status?: number }).status === 404) return;
        throw err;
      }
    },
    async listRooms(names) {
      const list = await observe('ListRooms', () => rooms.listRooms(names));
      return list.map((r) => r.name);
    },
    async listParticipants(room) {
      const list = await observe('ListParticipants', () => rooms.listParticipants(room));
      return list.map((p) => ({ identity: p.identity, kind: participantKind(p.kind) }));
    },
    async callerToken(room, identity) {
      const token = new AccessToken(config.apiKey, config.apiSecret, { identity, ttl: '10m' });
      token.addGrant({
        roomJoin: true,
        room,
        canPublish: true,
        canSubscribe: true,
        canPublishData: false,
        canPublishSources: [TrackSource.MICROPHONE],
      });
      return token.toJwt();
    },
    newCallerIdentity() {
      return `caller-${randomUUID()}`;
    },
  };
}
