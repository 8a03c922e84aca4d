/**
 * Agent recovery: when a call's agent leaves while the caller is still on the line (its process died, its
 * node went away), a new agent is dispatched into the same room with `"resumed": true`, so the caller is not
 * left talking to nobody. The LiveKit call is retried with backoff; the call's `agent_state` says where it is
 * (`lost` → `redispatched`, or `lost` stays when every attempt failed and the reconciler's next pass or an
 * operator must act).
 */
import { backoffDelayMs, sleep } from '../../../common/src/http-retry.ts';
import type { Logger } from '../../../common/src/logger.ts';
import type { Db } from '../db/db.ts';
import type { ControlApiMetrics } from '../metrics.ts';
import type { LiveKitGateway } from './livekit-gateway.ts';

export interface AgentRecoveryDeps {
  db: Db;
  livekit: Pick<LiveKitGateway, 'redispatchAgent'>;
  metrics: ControlApiMetrics;
  logger: Logger;
  attempts?: number;
  backoff?: { initialMs: number; maxMs: number };
}

export function agentRecoveryFactory(deps: AgentRecoveryDeps) {
  const attempts = deps.attempts ?? 4;
  const backoff = deps.backoff ?? { initialMs: 250, maxMs: 4000 };
  const inFlight = new Set<string>();

  return {
    /** Dispatches a new agent into `roomName` if its call still waits for one; never throws. */
    async replaceLostAgent(roomName: string): Promise<'redispatched' | 'not_needed' | 'failed'> {
      if (inFlight.has(roomName)) return 'not_needed';
      inFlight.add(roomName);
      try {
        const call = await deps.db.kysely
          .selectFrom('calls')
          .select(['id', 'state', 'agent_state'])
          .where('room_name', '=', roomName)
          .executeTakeFirst();
        if (call?.state !== 'in_progress' || call.agent_state !== 'lost') return 'not_needed';
        for (let attempt = 0; attempt < attempts; attempt += 1) {
          try {
            const dispatchId = await deps.livekit.redispatchAgent(roomName);
            if (!dispatchId) {
              deps.metrics.agentReplacements.inc({ outcome: 'no_dispatch' });
              deps.logger.warn({ callId: call.id }, 'agent lost but the room has no dispatch to repeat');
              return 'failed';
            }
            await deps.db.kysely
              .updateTable('calls')
              .set({ agent_state: 'redispatched' })
              .where('id', '=', call.id)
              .where('agent_state', '=', 'lost')
              .execute();
            deps.metrics.agentReplacements.inc({ outcome: 'dispatched' });
            deps.logger.info({ callId: call.id, dispatchId, attempt }, 'agent lost; new agent dispatched');
            return 'redispatched';
          } catch (err) {
            deps.logger.warn({ err, callId: call.id, attempt }, 'agent redispatch failed');
            if (attempt + 1 < attempts) await sleep(backoffDelayMs(attempt, backoff));
          }
        }
        deps.metrics.agentReplacements.inc({ outcome: 'failed' });
        deps.logger.error({ callId: call.id }, 'agent lost and no new agent could be dispatched');
        return 'failed';
      } catch (err) {
        deps.logger.error({ err }, 'agent recovery failed');
        return 'failed';
      } finally {
        inFlight.delete(roomName);
      }
    },
  };
}

export type AgentRecovery = ReturnType<typeof agentRecoveryFactory>;
