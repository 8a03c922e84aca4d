/**
 * `POST /v1/webhooks/livekit`. The body is read as raw text and handed to the SDK receiver unparsed: protojson
 * is not byte-stable, so the signature only holds over the exact bytes. 204 for a new event, 200 for a
 * duplicate, 401 for any verification failure, 400 for a signed body that is not an event.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { WebhookService } from '../services/webhook-service.ts';
import { createRouter, problemContent } from './router.ts';

const route = createRoute({
  method: 'post',
  path: '/livekit',
  operationId: 'receiveLiveKitWebhook',
  tags: ['webhooks'],
  summary: 'Receive a signed LiveKit webhook',
  description:
    'Body: LiveKit WebhookEvent as protojson (`application/webhook+json`). `Authorization`: the raw HS256 JWT ' +
    'LiveKit signs (iss = API key, sha256 claim of the body), without a Bearer prefix.',
  request: {
    headers: z.object({ authorization: z.string().optional() }),
  },
  responses: {
    200: {
      description: 'Duplicate delivery, already recorded',
      content: { 'application/json': { schema: z.object({ status: z.literal('duplicate') }) } },
    },
    204: { description: 'Accepted; the call state is updated asynchronously' },
    400: { description: 'Signed but not a LiveKit event', content: problemContent },
    401: { description: 'Signature verification failed', content: problemContent },
    413: { description: 'Body over 1 MB', content: problemContent },
  },
});

export function webhooksRouter(deps: { webhooks: WebhookService }) {
  return createRouter().openapi(route, async (c) => {
    const raw = await c.req.text();
    const result = await deps.webhooks.receive(raw, c.req.header('authorization'));
    if (result.status === 'duplicate') return c.json({ status: 'duplicate' as const }, 200);
    return c.body(null, 204);
  });
}
