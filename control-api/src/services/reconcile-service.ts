/**
 * Webhooks may be dropped (LiveKit gives no delivery guarantee), so open calls are periodically compared with
 * LiveKit's own view: a room that no longer exists ends its call, and participants are brought up to date.
 */
import type { Logger } from '../../../common/src/logger.ts';
import type { Db } from '../db/db.ts';
import { type CallState, transition, upsertParticipant } from './call-state.ts';
import type { LiveKitGateway } from './livekit-gateway.ts';

export interface ReconcileResult {
  checked: number;
  ended: number;
  participantsUpdated: number;
}

export function reconcileServiceFactory(deps: {
  db: Db;
  livekit: LiveKitGateway;
  logger: Logger;
  now: () => Date;
  /** Calls younger than this may not have their room visible yet. */
  graceMs?: number;
}) {
  const db = deps.db.kysely;
  return {
    async run(): Promise<ReconcileResult> {
      const now = deps.now();
      const open = await db
        .selectFrom('calls')
        .select(['id', 'room_name', 'state'])
        .where('state', '<>', 'ended')
        .where('created_at', '<', new Date(now.getTime() - (deps.graceMs ?? 30_000)))
        .orderBy('created_at')
        .limit(500)
        .execute();
      const result: ReconcileResult = { checked: open.length, ended: 0, participantsUpdated: 0 };
      if (open.length === 0) return result;
      const live = new Set(await deps.livekit.listRooms(open.map((c) => c.room_name)));
      for (const call of open) {
        if (!live.has(call.room_name)) {
          const changed = await db.transaction().execute(async (trx) => {
            const ok = await transition(
              trx,
              {
                callId: call.id,
                from: call.state as CallState,
                to: 'ended',
                cause: 'reconcile',
                eventId: null,
                at: now,
              },
              { endReason: 'room_gone' },
            );
            if (ok) {
              await trx
                .updateTable('call_participants')
                .set({ state: 'left', left_at: now })
                .where('call_id', '=', call.id)
                .where('state', '=', 'joined')
                .execute();
            }
            return ok;
          });
          if (changed) result.ended += 1;
          continue;
        }
        const participants = await deps.livekit.listParticipants(call.room_name);
        await db.transaction().execute(async (trx) => {
          const known = await trx
            .selectFrom('call_participants')
            .select(['identity', 'state'])
            .where('call_id', '=', call.id)
            .execute();
          const present = new Set(participants.map((p) => p.identity));
          for (const p of participants) {
            if (known.find((k) => k.identity === p.identity)?.state === 'joined') continue;
            await upsertParticipant(trx, call.id, p, 'joined', now);
            result.participantsUpdated += 1;
          }
          for (const k of known) {
            if (k.state === 'joined' && !present.has(k.identity)) {
              await upsertParticipant(trx, call.id, { identity: k.identity, kind: 'standard' }, 'left', now);
              result.participantsUpdated += 1;
            }
          }
          if (call.state === 'created' && participants.some((p) => p.kind !== 'agent')) {
            await transition(trx, {
              callId: call.id,
              from: 'created',
              to: 'in_progress',
              cause: 'reconcile',
              eventId: null,
              at: now,
            });
          }
          if (participants.some((p) => p.kind === 'agent')) {
            await trx
              .updateTable('calls')
              .set({ agent_state: 'joined' })
              .where('id', '=', call.id)
              .where('agent_state', '=', 'dispatched')
              .execute();
          }
        });
      }
      deps.logger.debug({ ...result }, 'reconciled calls with livekit');
      return result;
    },
  };
}

export type ReconcileService = ReturnType<typeof reconcileServiceFactory>;
