/**
 * Calls: create an EU room and dispatch the agent (honouring Idempotency-Key), read state, end the call.
 * Subjects are stored only as `subject_ref`; consent choices made at creation are recorded (Art. 7).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '../../../common/src/logger.ts';
import type { Db } from '../db/db.ts';
import type { KeyringService } from '../lib/crypto.ts';
import { ApiError } from '../lib/problem.ts';
import type { Principal } from '../types.ts';
import { type AuditService, canonicalJson } from './audit-service.ts';
import { type CallState, transition } from './call-state.ts';
import type { LiveKitGateway } from './livekit-gateway.ts';
import type { SegmentOutput, TranscriptsService } from './transcripts-service.ts';

export interface CreateCallInput {
  subjectId: string;
  region: string;
  legalBasis: string;
  consents: Array<{ purpose: string; granted: boolean; noticeVersion: string }>;
}

export interface CreatedCall {
  callId: string;
  roomName: string;
  region: string;
  state: CallState;
  callerIdentity: string;
  callerToken: string;
  livekitUrl: string;
  replayed: boolean;
}

export interface CallView {
  id: string;
  roomName: string;
  region: string;
  state: string;
  agentState: string;
  legalBasis: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  participants?: Array<{ identity: string; kind: string; state: string; tracksPublished: number }>;
  transitions?: Array<{ from: string; to: string; cause: string; at: string }>;
  transcript?: SegmentOutput[];
}

export interface CallsServiceDeps {
  db: Db;
  livekit: LiveKitGateway;
  livekitUrl: string;
  keyring: KeyringService;
  transcripts: TranscriptsService;
  audit: AuditService;
  allowedRegions: string[];
  logger: Logger;
  now: () => Date;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function callsServiceFactory(deps: CallsServiceDeps) {
  const db = deps.db.kysely;

  async function reserveKey(principal: Principal, key: string, fingerprint: string): Promise<string | null> {
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({
        principal: principal.id,
        key,
        fingerprint,
        status: 'in_flight',
        call_id: null,
        created_at: deps.now(),
      })
      .onConflict((oc) => oc.columns(['principal', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    if (inserted) return null;
    const row = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('principal', '=', principal.id)
      .where('key', '=', key)
      .executeTakeFirst();
    // Released (the first request failed) or expired between the two statements: the client may try again.
    if (!row) throw new ApiError(409, 'Conflict', 'a request with this Idempotency-Key just finished; retry');
    if (row.fingerprint !== fingerprint) {
      throw new ApiError(422, 'Unprocessable Content', 'Idempotency-Key was already used with another body', {
        field: 'Idempotency-Key',
      });
    }
    if (row.status !== 'done' || !row.call_id) {
      throw new ApiError(409, 'Conflict', 'a request with this Idempotency-Key is still in progress');
    }
    return row.call_id;
  }

  async function replay(callId: string): Promise<CreatedCall> {
    const call = await db.selectFrom('calls').selectAll().where('id', '=', callId).executeTakeFirst();
    if (!call) {
      // Erased (Art. 17) or removed by retention since: the result cannot be replayed, and a new call under the
      // same key would not be a replay either.
      throw new ApiError(409, 'Conflict', 'the call created with this Idempotency-Key no longer exists', {
        field: 'Idempotency-Key',
      });
    }
    return {
      callId,
      roomName: call.room_name,
      region: call.region,
      state: call.state as CallState,
      callerIdentity: call.caller_identity,
      // The token is short-lived and never stored: a replay gets a fresh one for the same identity.
      callerToken: await deps.livekit.callerToken(call.room_name, call.caller_identity),
      livekitUrl: deps.livekitUrl,
      replayed: true,
    };
  }

  return {
    async create(principal: Principal, idempotencyKey: string | undefined, input: CreateCallInput) {
      if (!deps.allowedRegions.includes(input.region)) {
        throw new ApiError(422, 'Unprocessable Content', 'region is not allowed (EU only)', {
          field: 'region',
          allowed: deps.allowedRegions,
        });
      }
      const subjectRef = deps.keyring.subjectRef(input.subjectId);
      const restricted = await db
        .selectFrom('subjects')
        .select('restricted_at')
        .where('subject_ref', '=', subjectRef)
        .executeTakeFirst();
      if (restricted?.restricted_at) {
        throw new ApiError(423, 'Locked', 'processing of this subject is restricted (Art. 18)');
      }
      if (idempotencyKey) {
        const fingerprint = createHash('sha256').update(canonicalJson(input)).digest('hex');
        const existing = await reserveKey(principal, idempotencyKey, fingerprint);
        if (existing) return replay(existing);
      }
      const release = async () => {
        if (!idempotencyKey) return;
        await db
          .deleteFrom('idempotency_keys')
          .where('principal', '=', principal.id)
          .where('key', '=', idempotencyKey)
          .execute();
      };

      const callId = randomUUID();
      const roomName = `call-${callId}`;
      const callerIdentity = deps.livekit.newCallerIdentity();
      let dispatchId: string;
      try {
        await deps.livekit.createRoom(roomName, JSON.stringify({ region: input.region }));
        dispatchId = await deps.livekit.dispatchAgent(
          roomName,
          JSON.stringify({ callId, subjectId: input.subjectId }),
        );
      } catch (err) {
        deps.logger.warn({ err, callId }, 'livekit refused call creation');
        await release();
        // Clean up in the background: the room may exist even if the call failed, and it must not delay the answer.
        void deps.livekit.deleteRoom(roomName).catch(() => {});
        throw new ApiError(502, 'Bad Gateway', 'LiveKit could not create the call');
      }

      const at = deps.now();
      try {
        await db.transaction().execute(async (trx) => {
          await trx
            .insertInto('calls')
            .values({
              id: callId,
              room_name: roomName,
              subject_ref: subjectRef,
              region: input.region,
              legal_basis: input.legalBasis,
              state: 'created',
              caller_identity: callerIdentity,
              dispatch_id: dispatchId,
              created_at: at,
              updated_at: at,
            })
            .execute();
          if (input.consents.length > 0) {
            await trx
              .insertInto('consent_records')
              .values(
                input.consents.map((c) => ({
                  id: randomUUID(),
                  subject_ref: subjectRef,
                  call_id: callId,
                  purpose: c.purpose,
                  granted: c.granted,
                  notice_version: c.noticeVersion,
                  given_at: at,
                })),
              )
              .execute();
          }
          if (idempotencyKey) {
            await trx
              .updateTable('idempotency_keys')
              .set({ status: 'done', call_id: callId })
              .where('principal', '=', principal.id)
              .where('key', '=', idempotencyKey)
              .execute();
          }
          await deps.audit.append(
            { actor: principal.id, action: 'call.create', target: `call:${callId}`, details: {} },
            trx,
          );
        });
      } catch (err) {
        await release().catch(() => {});
        await deps.livekit.deleteRoom(roomName).catch(() => {});
        throw err;
      }

      return {
        callId,
        roomName,
        region: input.region,
        state: 'created' as CallState,
        callerIdentity,
        callerToken: await deps.livekit.callerToken(roomName, callerIdentity),
        livekitUrl: deps.livekitUrl,
        replayed: false,
      };
    },

    async list(options: { state?: string | undefined; limit: number; before?: string | undefined }) {
      let q = db
        .selectFrom('calls')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(options.limit);
      if (options.state) q = q.where('state', '=', options.state);
      if (options.before) q = q.where('created_at', '<', new Date(options.before));
      const rows = await q.execute();
      return rows.map((r) => toView(r));
    },

    async get(id: string, options: { transcript: boolean }): Promise<CallView> {
      return db.transaction().execute(async (trx) => {
        const call = await trx.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
        if (!call) throw new ApiError(404, 'Not Found', 'no such call');
        const participants = await trx
          .selectFrom('call_participants')
          .selectAll()
          .where('call_id', '=', id)
          .orderBy('identity')
          .execute();
        const transitions = await trx
          .selectFrom('call_transitions')
          .selectAll()
          .where('call_id', '=', id)
          .orderBy('id')
          .execute();
        const view = toView(call);
        view.participants = participants.map((p) => ({
          identity: p.identity,
          kind: p.kind,
          state: p.state,
          tracksPublished: p.tracks_published,
        }));
        view.transitions = transitions.map((t) => ({
          from: t.from_state,
          to: t.to_state,
          cause: t.cause,
          at: new Date(t.at).toISOString(),
        }));
        if (options.transcript) view.transcript = await deps.transcripts.forCall(trx, id, call.subject_ref);
        return view;
      });
    },

    /** Ends the call in LiveKit (deleteRoom) and here. Ending an ended call is a no-op. */
    async end(principal: Principal, id: string): Promise<CallView> {
      const call = await db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
      if (!call) throw new ApiError(404, 'Not Found', 'no such call');
      if (call.state !== 'ended') {
        try {
          await deps.livekit.deleteRoom(call.room_name);
        } catch (err) {
          deps.logger.warn({ err, callId: id }, 'livekit refused room deletion');
          throw new ApiError(502, 'Bad Gateway', 'LiveKit could not end the call');
        }
        await db.transaction().execute(async (trx) => {
          const changed = await transition(
            trx,
            {
              callId: id,
              from: call.state as CallState,
              to: 'ended',
              cause: 'api:delete',
              eventId: null,
              at: deps.now(),
            },
            { endReason: 'api_delete' },
          );
          if (changed) {
            await deps.audit.append({ actor: principal.id, action: 'call.end', target: `call:${id}` }, trx);
          }
        });
      }
      const updated = await db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return toView(updated);
    },

    async countActive(): Promise<number> {
      const row = await db
        .selectFrom('calls')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('state', '<>', 'ended')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };

  function toView(r: {
    id: string;
    room_name: string;
    region: string;
    state: string;
    agent_state: string;
    legal_basis: string;
    created_at: Date;
    started_at: Date | null;
    ended_at: Date | null;
    end_reason: string | null;
  }): CallView {
    return {
      id: r.id,
      roomName: r.room_name,
      region: r.region,
      state: r.state,
      agentState: r.agent_state,
      legalBasis: r.legal_basis,
      createdAt: new Date(r.created_at).toISOString(),
      startedAt: iso(r.started_at),
      endedAt: iso(r.ended_at),
      endReason: r.end_reason,
    };
  }
}

export type CallsService = ReturnType<typeof callsServiceFactory>;
