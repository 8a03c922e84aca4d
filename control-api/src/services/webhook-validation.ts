/**
 * Bounds on what a verified LiveKit webhook may put in the outbox. A correctly signed event can still carry
 * values the database cannot store (NUL or an unpaired surrogate in a participant identity, a 20,000-character
 * id over the unique index's row limit); such an event is refused with 400 before it joins a group-commit batch,
 * so it cannot fail the valid deliveries it would have shared an INSERT with. LiveKit does not retry a 400.
 *
 * Limits are generous next to LiveKit's own values (ids like `EV_…`/`PA_…` of about 15 characters; room names
 * and identities chosen by this service).
 */
import { textProblem } from '../lib/input-guard.ts';
import type { WebhookFacts } from './call-state.ts';

export const WEBHOOK_LIMITS = {
  id: 128,
  event: 64,
  name: 256,
  location: 2048,
  locations: 100,
} as const;

export interface WebhookFieldProblem {
  field: string;
  message: string;
}

function check(field: string, value: string | undefined, max: number): WebhookFieldProblem | undefined {
  if (value === undefined) return undefined;
  if (value.length > max) return { field, message: `longer than ${max} characters` };
  const message = textProblem(value, { strict: true });
  return message ? { field, message } : undefined;
}

/** The first field of the event that must not be stored, named as in the LiveKit event; undefined if none. */
export function webhookProblem(
  id: string,
  event: string,
  facts: WebhookFacts,
): WebhookFieldProblem | undefined {
  const locations = facts.egress?.locations ?? [];
  if (locations.length > WEBHOOK_LIMITS.locations) {
    return { field: 'egressInfo.fileResults', message: `more than ${WEBHOOK_LIMITS.locations} files` };
  }
  return (
    check('id', id, WEBHOOK_LIMITS.id) ??
    check('event', event, WEBHOOK_LIMITS.event) ??
    check('room.name', facts.roomName ?? undefined, WEBHOOK_LIMITS.name) ??
    check('participant.identity', facts.participant?.identity, WEBHOOK_LIMITS.name) ??
    check('track.sid', facts.trackSid, WEBHOOK_LIMITS.id) ??
    check('egressInfo.egressId', facts.egress?.id, WEBHOOK_LIMITS.id) ??
    check('job.id', facts.job?.id, WEBHOOK_LIMITS.id) ??
    locations.reduce<WebhookFieldProblem | undefined>(
      (found, l, i) => found ?? check(`egressInfo.fileResults.${i}.location`, l, WEBHOOK_LIMITS.location),
      undefined,
    )
  );
}

/**
 * Whether a store error was caused by the row's values (SQLSTATE class 22 data exception, 54 program limit
 * such as an index row too large) rather than by the database being unavailable.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}
