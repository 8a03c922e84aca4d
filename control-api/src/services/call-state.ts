/**
 * The call state machine, fed by LiveKit webhook facts and by reconciliation.
 *
 *   created ──caller joins──▶ in_progress ──caller hangs up / room_finished / DELETE / room gone──▶ ended
 *      └───────────────room_finished / DELETE / room gone──────────────────────────────────────────▶ ended
 *
 * An agent that leaves an in-progress call while the caller is still there (its process died, its node
 * went away) is reported as `agent_lost`: the webhook service then dispatches a new agent to the room.
 *
 * `ended` is terminal. Events of one room arrive in order but may repeat or be dropped, so every step is
 * idempotent (upserts, guarded transitions) and the reconciler repairs what was missed.
 */

import type { Kysely } from 'kysely';
import type { WebhookEvent } from 'livekit-server-sdk';
import type { Database } from '../db/schema.ts';
import { type ParticipantKind, participantKind } from './livekit-gateway.ts';

export type CallState = 'created' | 'in_progress' | 'ended';

/** The allow-listed fields kept from a webhook. Nothing else of the payload is stored or logged. */
export interface WebhookFacts {
  event: string;
  roomName: string | null;
  participant?: { identity: string; kind: ParticipantKind; left?: LeaveCause };
  trackSid?: string;
  egress?: { id: string; status: string; locations: string[] };
  job?: { id: string; status: string };
  endReason?: string;
}

/** Why a participant left, from `ParticipantInfo.disconnectReason` (livekit_models.proto DisconnectReason). */
export type LeaveCause = 'client' | 'room_closed' | 'removed' | 'server' | 'lost' | 'unknown';

const LEAVE_CAUSES: Record<number, LeaveCause> = {
  1: 'client', // CLIENT_INITIATED
  2: 'removed', // DUPLICATE_IDENTITY
  3: 'server', // SERVER_SHUTDOWN
  4: 'removed', // PARTICIPANT_REMOVED
  5: 'room_closed', // ROOM_DELETED
  6: 'lost', // STATE_MISMATCH
  7: 'lost', // JOIN_FAILURE
  8: 'server', // MIGRATION
  9: 'lost', // SIGNAL_CLOSE
  10: 'room_closed', // ROOM_CLOSED
  11: 'client', // USER_UNAVAILABLE (SIP)
  12: 'client', // USER_REJECTED (SIP)
  13: 'lost', // SIP_TRUNK_FAILURE
  14: 'lost', // CONNECTION_TIMEOUT
};

/** Participants that are the caller side of a call (web or phone), as opposed to agents and media workers. */
function isCaller(kind: ParticipantKind): boolean {
  return kind === 'standard' || kind === 'sip';
}

const END_REASONS = ['unknown', 'api_delete', 'idle_timeout', 'server_shutdown', 'superseded', 'open_failed'];
const EGRESS_STATUS = ['starting', 'active', 'ending', 'complete', 'failed', 'aborted', 'limit_reached'];
const JOB_STATUS = ['pending', 'running', 'success', 'failed'];

export function extractFacts(ev: WebhookEvent): WebhookFacts {
  const roomName = ev.room?.name || ev.egressInfo?.roomName || ev.job?.room?.name || null;
  const facts: WebhookFacts = { event: ev.event, roomName };
  if (ev.participant) {
    facts.participant = { identity: ev.participant.identity, kind: participantKind(ev.participant.kind) };
    if (ev.event === 'participant_left' || ev.event === 'participant_connection_aborted') {
      facts.participant.left =
        ev.event === 'participant_connection_aborted'
          ? 'lost'
          : (LEAVE_CAUSES[ev.participant.disconnectReason] ?? 'unknown');
    }
  }
  if (ev.track) facts.trackSid = ev.track.sid;
  if (ev.egressInfo) {
    const locations = ev.egressInfo.fileResults.map((f) => f.location || f.filename).filter((l) => l);
    facts.egress = {
      id: ev.egressInfo.egressId,
      status: EGRESS_STATUS[ev.egressInfo.status] ?? 'unknown',
      locations,
    };
  }
  if (ev.job) facts.job = { id: ev.job.id, status: JOB_STATUS[ev.job.state?.status ?? 0] ?? 'unknown' };
  if (ev.event === 'room_finished') facts.endReason = END_REASONS[ev.roomEndReason] ?? 'unknown';
  return facts;
}

export interface TransitionInput {
  callId: string;
  from: CallState;
  to: CallState;
  cause: string;
  eventId: string | null;
  at: Date;
}

/** Moves a call to `to` only if it is still in `from`; returns whether this caller made the change. */
export async function transition(
  trx: Kysely<Database>,
  t: TransitionInput,
  extra: { endReason?: string } = {},
): Promise<boolean> {
  const res = await trx
    .updateTable('calls')
    .set({
      state: t.to,
      updated_at: t.at,
      ...(t.to === 'ended' ? { ended_at: t.at, end_reason: extra.endReason ?? t.cause } : {}),
    })
    .where('id', '=', t.callId)
    .where('state', '=', t.from)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) return false;
  await trx
    .insertInto('call_transitions')
    .values({
      call_id: t.callId,
      from_state: t.from,
      to_state: t.to,
      cause: t.cause,
      event_id: t.eventId,
      at: t.at,
    })
    .execute();
  return true;
}

export async function upsertParticipant(
  trx: Kysely<Database>,
  callId: string,
  p: { identity: string; kind: ParticipantKind },
  state: 'joined' | 'left',
  at: Date,
): Promise<void> {
  await trx
    .insertInto('call_participants')
    .values({
      call_id: callId,
      identity: p.identity,
      kind: p.kind,
      state,
      joined_at: state === 'joined' ? at : null,
      left_at: state === 'left' ? at : null,
    })
    .onConflict((oc) =>
      oc
        .columns(['call_id', 'identity'])
        .doUpdateSet(state === 'joined' ? { state, left_at: null } : { state, left_at: at }),
    )
    .execute();
}

/**
 * After a participant left an active call: the caller hanging up (or its line being lost) ends the call;
 * the agent leaving while a caller is still there is an `agent_lost` (the caller is not left alone).
 * Departures caused by the room closing are left to room_finished.
 */
async function participantLeft(
  trx: Kysely<Database>,
  call: { id: string; state: CallState },
  p: NonNullable<WebhookFacts['participant']>,
  t: { cause: string; eventId: string; at: Date },
): Promise<string> {
  if (call.state !== 'in_progress' || p.left === 'room_closed' || p.left === 'server') return 'applied';
  if (isCaller(p.kind)) {
    const othersOnLine = await trx
      .selectFrom('call_participants')
      .select('identity')
      .where('call_id', '=', call.id)
      .where('state', '=', 'joined')
      .where('kind', 'in', ['standard', 'sip'])
      .executeTakeFirst();
    if (othersOnLine) return 'applied';
    await transition(
      trx,
      { callId: call.id, from: 'in_progress', to: 'ended', cause: t.cause, eventId: t.eventId, at: t.at },
      { endReason: p.left === 'client' ? 'hang-up' : 'caller-lost' },
    );
    return 'applied';
  }
  if (p.kind !== 'agent' || p.left === 'removed') return 'applied';
  const callerOnLine = await trx
    .selectFrom('call_participants')
    .select('identity')
    .where('call_id', '=', call.id)
    .where('state', '=', 'joined')
    .where('kind', 'in', ['standard', 'sip'])
    .executeTakeFirst();
  if (!callerOnLine) return 'applied';
  await trx.updateTable('calls').set({ agent_state: 'lost' }).where('id', '=', call.id).execute();
  return 'agent_lost';
}

/** Applies one webhook's facts; returns a short result label for metrics and the outbox row. */
export async function applyFacts(
  trx: Kysely<Database>,
  facts: WebhookFacts,
  eventId: string,
  at: Date,
): Promise<string> {
  if (!facts.roomName) return 'no_room';
  const call = await trx
    .selectFrom('calls')
    .select(['id', 'state'])
    .where('room_name', '=', facts.roomName)
    .executeTakeFirst();
  if (!call) return 'unknown_room';
  const state = call.state as CallState;
  const cause = `webhook:${facts.event}`;

  switch (facts.event) {
    case 'room_started':
      await trx
        .updateTable('calls')
        .set({ started_at: at, updated_at: at })
        .where('id', '=', call.id)
        .where('started_at', 'is', null)
        .execute();
      return 'applied';
    case 'participant_joined': {
      if (!facts.participant || state === 'ended') return 'ignored';
      await upsertParticipant(trx, call.id, facts.participant, 'joined', at);
      if (facts.participant.kind === 'agent') {
        await trx.updateTable('calls').set({ agent_state: 'joined' }).where('id', '=', call.id).execute();
      } else if (state === 'created') {
        await transition(trx, { callId: call.id, from: 'created', to: 'in_progress', cause, eventId, at });
        await trx
          .updateTable('calls')
          .set({ started_at: at })
          .where('id', '=', call.id)
          .where('started_at', 'is', null)
          .execute();
      }
      return 'applied';
    }
    case 'participant_left':
    case 'participant_connection_aborted':
      if (!facts.participant) return 'ignored';
      await upsertParticipant(trx, call.id, facts.participant, 'left', at);
      return participantLeft(trx, { id: call.id, state }, facts.participant, { cause, eventId, at });
    case 'track_published':
      if (!facts.participant) return 'ignored';
      await trx
        .updateTable('call_participants')
        .set((eb) => ({ tracks_published: eb('tracks_published', '+', 1) }))
        .where('call_id', '=', call.id)
        .where('identity', '=', facts.participant.identity)
        .execute();
      return 'applied';
    case 'egress_started':
    case 'egress_updated':
    case 'egress_ended':
      if (!facts.egress?.id) return 'ignored';
      // Recording locations are kept so erasure and retention can find the files.
      await trx
        .insertInto('call_egress')
        .values({
          egress_id: facts.egress.id,
          call_id: call.id,
          status: facts.egress.status,
          locations: facts.egress.locations,
          updated_at: at,
        })
        .onConflict((oc) =>
          oc.column('egress_id').doUpdateSet({
            status: facts.egress?.status ?? 'unknown',
            locations: facts.egress?.locations ?? [],
            updated_at: at,
          }),
        )
        .execute();
      return 'applied';
    case 'agent_job_started':
    case 'agent_job_ended': {
      const agentState = facts.event === 'agent_job_started' ? 'running' : 'finished';
      await trx.updateTable('calls').set({ agent_state: agentState }).where('id', '=', call.id).execute();
      return 'applied';
    }
    case 'room_finished': {
      if (state === 'ended') return 'ignored';
      await transition(
        trx,
        { callId: call.id, from: state, to: 'ended', cause, eventId, at },
        { endReason: facts.endReason ?? 'unknown' },
      );
      await trx
        .updateTable('call_participants')
        .set({ state: 'left', left_at: at })
        .where('call_id', '=', call.id)
        .where('state', '=', 'joined')
        .execute();
      return 'applied';
    }
    default:
      return 'ignored';
  }
}
