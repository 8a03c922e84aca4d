/**
 * A small LiveKit server stand-in for tests: a real HTTP server on loopback speaking LiveKit's Twirp JSON wire
 * format for the calls the control API makes. It checks the bearer token each request carries (HS256 with the
 * API secret, iss = API key), keeps rooms and participants, records every request, and can fail or stall on
 * demand.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';

export interface RecordedRequest {
  method: string;
  body: Record<string, unknown>;
}

export interface FakeParticipant {
  identity: string;
  /** protobuf enum name, as LiveKit's protojson renders it */
  kind: 'STANDARD' | 'AGENT' | 'SIP';
}

export interface FakeLiveKit {
  url: string;
  rooms: Map<string, { name: string; sid: string; metadata: string; participants: FakeParticipant[] }>;
  requests: RecordedRequest[];
  /** Make the next call of `method` answer with this HTTP status (Twirp error body). */
  failNext(method: string, status: number): void;
  /** Delay every answer by this many ms (for timeout tests). */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export async function startFakeLiveKit(options: { apiKey: string; apiSecret: string }): Promise<FakeLiveKit> {
  const secret = new TextEncoder().encode(options.apiSecret);
  const rooms: FakeLiveKit['rooms'] = new Map();
  const requests: RecordedRequest[] = [];
  const failures = new Map<string, number>();
  let delay = 0;
  let sidCounter = 0;
  const dispatches = new Map<string, Array<Record<string, unknown>>>();

  const twirpError = (res: ServerResponse, status: number, code: string, msg: string) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code, msg }));
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = /^\/twirp\/livekit\.(RoomService|AgentDispatchService)\/(\w+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) return twirpError(res, 404, 'bad_route', 'no such method');
    const method = match[2]!;
    const auth = req.headers.authorization ?? '';
    try {
      await jwtVerify(auth.replace(/^Bearer /, ''), secret, { issuer: options.apiKey });
    } catch {
      return twirpError(res, 401, 'unauthenticated', 'invalid token');
    }
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      return twirpError(res, 415, 'malformed', 'expected JSON');
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    requests.push({ method, body });
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const failure = failures.get(method);
    if (failure) {
      failures.delete(method);
      return twirpError(res, failure, failure >= 500 ? 'internal' : 'invalid_argument', 'injected failure');
    }
    const ok = (payload: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    switch (method) {
      case 'CreateRoom': {
        const name = String(body.name);
        const room = rooms.get(name) ?? {
          name,
          sid: `RM_${++sidCounter}`,
          metadata: String(body.metadata ?? ''),
          participants: [],
        };
        rooms.set(name, room);
        return ok({ sid: room.sid, name, metadata: room.metadata, creationTime: '1700000000' });
      }
      case 'DeleteRoom': {
        const name = String(body.room);
        if (!rooms.delete(name)) return twirpError(res, 404, 'not_found', 'room not found');
        return ok({});
      }
      case 'ListRooms': {
        const names = (body.names as string[] | undefined) ?? [];
        const list = [...rooms.values()].filter((r) => names.length === 0 || names.includes(r.name));
        return ok({
          rooms: list.map((r) => ({ sid: r.sid, name: r.name, numParticipants: r.participants.length })),
        });
      }
      case 'ListParticipants': {
        const room = rooms.get(String(body.room));
        if (!room) return twirpError(res, 404, 'not_found', 'room not found');
        return ok({
          participants: room.participants.map((p, i) => ({
            sid: `PA_${i}`,
            identity: p.identity,
            kind: p.kind,
            state: 'ACTIVE',
          })),
        });
      }
      case 'CreateDispatch': {
        const roomName = String(body.room);
        if (!rooms.has(roomName)) return twirpError(res, 404, 'not_found', 'room not found');
        const created = {
          id: `AD_${++sidCounter}`,
          agentName: body.agentName,
          room: roomName,
          metadata: body.metadata,
        };
        dispatches.set(roomName, [...(dispatches.get(roomName) ?? []), created]);
        return ok(created);
      }
      case 'ListDispatch': {
        const roomName = String(body.room);
        if (!rooms.has(roomName)) return twirpError(res, 404, 'not_found', 'room not found');
        return ok({ agentDispatches: dispatches.get(roomName) ?? [] });
      }
      default:
        return twirpError(res, 501, 'unimplemented', 'not faked');
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => twirpError(res, 500, 'internal', 'fake failed'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rooms,
    requests,
    failNext(method, status) {
      failures.set(method, status);
    },
    setDelay(ms) {
      delay = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
