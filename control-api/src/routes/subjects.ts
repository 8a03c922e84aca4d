/**
 * `/v1/subjects/{subjectId}` (role dpo): export (Art. 15/20, streamed), erase (Art. 17), restriction (Art. 18),
 * consent records (Art. 7).
 */
import { createRoute, type RouteConfig, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { stream } from 'hono/streaming';
import type { Role } from '../config.ts';
import type { GdprService } from '../services/gdpr-service.ts';
import type { AppEnv } from '../types.ts';
import { SubjectId } from './calls.ts';
import { bearer, createRouter, errorResponses } from './router.ts';

const Params = z.object({ subjectId: SubjectId.openapi({ param: { name: 'subjectId', in: 'path' } }) });

const Counts = z.object({
  transcriptSegments: z.number(),
  calls: z.number(),
  participants: z.number(),
  recordings: z.number(),
  consentRecords: z.number(),
  dataKeys: z.number(),
});

const Consent = z.object({
  id: z.uuid(),
  purpose: z.string(),
  granted: z.boolean(),
  noticeVersion: z.string().optional(),
  callId: z.string().nullable().optional(),
  givenAt: z.string(),
  withdrawnAt: z.string().nullable().optional(),
});

export function subjectsRouter(deps: {
  gdpr: GdprService;
  requireRole: (...roles: Role[]) => MiddlewareHandler<AppEnv>;
}) {
  const dpo = deps.requireRole('dpo');
  /**
   * What every subject route shares: the gdpr tag, bearer auth, the dpo role, the `{subjectId}` path parameter
   * and the error responses.
   */
  const subjectRoute = <
    R extends Pick<RouteConfig, 'method' | 'path' | 'operationId' | 'responses'> & {
      request?: Omit<NonNullable<RouteConfig['request']>, 'params'>;
    },
  >(
    route: R,
  ) =>
    createRoute({
      ...route,
      tags: ['gdpr'],
      security: bearer,
      middleware: [dpo] as const,
      // Spreading an absent request adds nothing; the cast only keeps the route's own query and body types.
      request: { ...(route.request as NonNullable<R['request']>), params: Params },
      responses: { ...route.responses, ...errorResponses },
    });

  const exportRoute = subjectRoute({
    method: 'get',
    path: '/{subjectId}/export',
    operationId: 'exportSubject',
    responses: {
      200: {
        description: 'Everything held about the subject, as one streamed JSON document',
        content: {
          'application/json': { schema: z.object({ format: z.string(), version: z.number() }).passthrough() },
        },
      },
    },
  });

  const eraseRoute = subjectRoute({
    method: 'delete',
    path: '/{subjectId}',
    operationId: 'eraseSubject',
    request: {
      query: z.object({
        reason: z.string().min(3).max(200).openapi({ description: 'Why (audited; no personal data)' }),
        dryRun: z.enum(['true', 'false']).default('false'),
      }),
    },
    responses: {
      200: {
        description: 'What was erased (or would be, with dryRun)',
        content: {
          'application/json': {
            schema: z.object({
              requestId: z.string().nullable(),
              dryRun: z.boolean(),
              erased: Counts,
              recordingLocations: z.array(z.string()),
            }),
          },
        },
      },
    },
  });

  const restrictRoute = subjectRoute({
    method: 'put',
    path: '/{subjectId}/restriction',
    operationId: 'setRestriction',
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z.strictObject({ restricted: z.boolean(), reason: z.string().min(3).max(200) }),
          },
        },
      },
    },
    responses: {
      200: {
        description: 'Restriction state',
        content: { 'application/json': { schema: z.object({ restricted: z.boolean(), at: z.string() }) } },
      },
    },
  });

  const listConsents = subjectRoute({
    method: 'get',
    path: '/{subjectId}/consents',
    operationId: 'listConsents',
    responses: {
      200: {
        description: 'Consent history',
        content: { 'application/json': { schema: z.object({ consents: z.array(Consent) }) } },
      },
    },
  });

  const recordConsent = subjectRoute({
    method: 'post',
    path: '/{subjectId}/consents',
    operationId: 'recordConsent',
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z.strictObject({
              purpose: z.enum(['transcription', 'recording', 'analytics', 'quality_review']),
              granted: z.boolean(),
              noticeVersion: z.string().min(1).max(32),
              callId: z.uuid().optional(),
            }),
          },
        },
      },
    },
    responses: {
      201: {
        description: 'Recorded; a previous grant for the purpose is withdrawn',
        content: { 'application/json': { schema: Consent } },
      },
    },
  });

  return createRouter()
    .openapi(exportRoute, async (c) => {
      const chunks = deps.gdpr.exportSubject(c.var.principal, c.req.valid('param').subjectId);
      // Pull the first chunk before committing to a 200, so a failure to start becomes a proper error.
      const first = await chunks.next();
      c.header('content-type', 'application/json; charset=utf-8');
      c.header('content-disposition', 'attachment; filename="subject-export.json"');
      c.header('cache-control', 'no-store');
      return stream(c, async (s) => {
        if (!first.done) await s.write(first.value);
        for await (const chunk of chunks) await s.write(chunk);
      }) as never;
    })
    .openapi(eraseRoute, async (c) => {
      const q = c.req.valid('query');
      const out = await deps.gdpr.erase(c.var.principal, c.req.valid('param').subjectId, {
        dryRun: q.dryRun === 'true',
        reason: q.reason,
      });
      return c.json(out, 200);
    })
    .openapi(restrictRoute, async (c) => {
      const body = c.req.valid('json');
      return c.json(
        await deps.gdpr.setRestriction(
          c.var.principal,
          c.req.valid('param').subjectId,
          body.restricted,
          body.reason,
        ),
        200,
      );
    })
    .openapi(listConsents, async (c) =>
      c.json({ consents: await deps.gdpr.listConsents(c.req.valid('param').subjectId) }, 200),
    )
    .openapi(recordConsent, async (c) =>
      c.json(
        await deps.gdpr.recordConsent(c.var.principal, c.req.valid('param').subjectId, c.req.valid('json')),
        201,
      ),
    );
}
