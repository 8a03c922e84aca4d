/**
 * Data subject request tracking (`/v1/dsr`, dpo), the retention job and reconciliation on demand
 * (`/v1/admin/*`, admin) and the audit log (`/v1/audit`, admin and dpo).
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Role } from '../config.ts';
import type { Db } from '../db/db.ts';
import type { AuditService } from '../services/audit-service.ts';
import type { GdprService } from '../services/gdpr-service.ts';
import type { ReconcileService } from '../services/reconcile-service.ts';
import type { RetentionService } from '../services/retention-service.ts';
import type { SubjectKeys } from '../services/subject-keys.ts';
import type { AppEnv } from '../types.ts';
import { SubjectId } from './calls.ts';
import { Timestamp } from './fields.ts';
import { bearer, createRouter, errorResponses } from './router.ts';

type RequireRole = (...roles: Role[]) => MiddlewareHandler<AppEnv>;

const Dsr = z.object({
  id: z.uuid(),
  type: z.string(),
  status: z.string().optional(),
  receivedAt: z.string(),
  dueAt: z.string(),
  completedAt: z.string().nullable().optional(),
  overdue: z.boolean().optional(),
});

export function dsrRouter(deps: { gdpr: GdprService; requireRole: RequireRole }) {
  const open = createRoute({
    method: 'post',
    path: '/',
    operationId: 'openDsr',
    tags: ['gdpr'],
    security: bearer,
    middleware: [deps.requireRole('dpo')] as const,
    request: {
      body: {
        required: true,
        content: {
          'application/json': {
            schema: z.strictObject({
              type: z.enum(['access', 'portability', 'erasure', 'restriction', 'rectification', 'objection']),
              subjectId: SubjectId,
              receivedAt: Timestamp.optional(),
            }),
          },
        },
      },
    },
    responses: {
      201: {
        description: 'Request logged with its one-month deadline (Art. 12(3))',
        content: { 'application/json': { schema: Dsr } },
      },
      ...errorResponses,
    },
  });
  const list = createRoute({
    method: 'get',
    path: '/',
    operationId: 'listDsr',
    tags: ['gdpr'],
    security: bearer,
    middleware: [deps.requireRole('dpo')] as const,
    request: { query: z.object({ open: z.enum(['true', 'false']).default('true') }) },
    responses: {
      200: {
        description: 'Requests by deadline',
        content: { 'application/json': { schema: z.object({ requests: z.array(Dsr) }) } },
      },
      ...errorResponses,
    },
  });
  return createRouter()
    .openapi(open, async (c) => {
      const body = c.req.valid('json');
      const receivedAt = body.receivedAt ? new Date(body.receivedAt) : undefined;
      return c.json(await deps.gdpr.openRequest(c.var.principal, body.type, body.subjectId, receivedAt), 201);
    })
    .openapi(list, async (c) =>
      c.json(
        { requests: await deps.gdpr.listRequests({ openOnly: c.req.valid('query').open === 'true' }) },
        200,
      ),
    );
}

export function adminRouter(deps: {
  db: Db;
  subjectKeys: SubjectKeys;
  retention: RetentionService;
  reconcile: ReconcileService;
  audit: AuditService;
  requireRole: RequireRole;
}) {
  const retention = createRoute({
    method: 'post',
    path: '/admin/retention/run',
    operationId: 'runRetention',
    tags: ['admin'],
    security: bearer,
    middleware: [deps.requireRole('admin')] as const,
    responses: {
      200: {
        description: 'Rows deleted by the retention job (Art. 5(1)(e))',
        content: {
          'application/json': {
            schema: z.object({ cutoff: z.string(), deleted: z.record(z.string(), z.number()) }),
          },
        },
      },
      ...errorResponses,
    },
  });
  const reconcile = createRoute({
    method: 'post',
    path: '/admin/reconcile/run',
    operationId: 'runReconcile',
    tags: ['admin'],
    security: bearer,
    middleware: [deps.requireRole('admin')] as const,
    responses: {
      200: {
        description: 'Open calls compared with LiveKit',
        content: {
          'application/json': {
            schema: z.object({ checked: z.number(), ended: z.number(), participantsUpdated: z.number() }),
          },
        },
      },
      ...errorResponses,
    },
  });
  const rotate = createRoute({
    method: 'post',
    path: '/admin/keys/rewrap',
    operationId: 'rewrapKeys',
    tags: ['admin'],
    summary: 'Re-wrap every subject key under the active master key (ENCRYPTION_KEY_ID)',
    description: 'After this, older master keys can be removed from ENCRYPTION_KEY (except the index key).',
    security: bearer,
    middleware: [deps.requireRole('admin')] as const,
    responses: {
      200: {
        description: 'How many subject keys were re-wrapped',
        content: {
          'application/json': { schema: z.object({ rewrapped: z.number(), activeKeyId: z.string() }) },
        },
      },
      ...errorResponses,
    },
  });
  const auditList = createRoute({
    method: 'get',
    path: '/audit',
    operationId: 'listAudit',
    tags: ['admin'],
    security: bearer,
    middleware: [deps.requireRole('admin', 'dpo')] as const,
    request: {
      query: z.object({
        after: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
    },
    responses: {
      200: {
        description: 'Audit entries (no personal data)',
        content: {
          'application/json': {
            schema: z.object({
              entries: z.array(
                z.object({
                  seq: z.number(),
                  at: z.string(),
                  actor: z.string(),
                  action: z.string(),
                  target: z.string().nullable(),
                  details: z.record(z.string(), z.unknown()),
                  hash: z.string(),
                }),
              ),
            }),
          },
        },
      },
      ...errorResponses,
    },
  });
  const Head = z.object({ seq: z.number(), hash: z.string() });
  const auditVerify = createRoute({
    method: 'get',
    path: '/audit/verify',
    operationId: 'verifyAudit',
    tags: ['admin'],
    summary: 'Recompute the keyed hash chain and check it against the signed head',
    description:
      'Fails on a rewritten entry, entries missing from the end, or an emptied table. `seq` and `hash` add a ' +
      'head an external witness recorded earlier (from `/v1/audit/head`): the log must still pass through it.',
    security: bearer,
    middleware: [deps.requireRole('admin', 'dpo')] as const,
    request: {
      query: z
        .object({
          seq: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
          hash: z
            .string()
            .regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits')
            .optional(),
        })
        .refine((q) => (q.seq === undefined) === (q.hash === undefined), {
          message: 'give seq and hash together',
          path: ['hash'],
        }),
    },
    responses: {
      200: {
        description: 'Chain check',
        content: {
          'application/json': {
            schema: z.object({
              ok: z.boolean(),
              checked: z.number(),
              firstBrokenSeq: z.number().nullable(),
              reason: z
                .enum([
                  'rewritten',
                  'gap',
                  'unkeyed_after_keyed',
                  'tail_missing',
                  'head_mismatch',
                  'head_invalid',
                ])
                .nullable(),
              head: Head.nullable(),
            }),
          },
        },
      },
      ...errorResponses,
    },
  });
  const auditHead = createRoute({
    method: 'get',
    path: '/audit/head',
    operationId: 'auditHead',
    tags: ['admin'],
    summary: 'The signed audit head, for an external witness',
    description:
      'Record it elsewhere from time to time: later heads must have a higher or equal `seq`, and the same ' +
      '`seq` must keep the same `hash`. Pass a recorded head to `/v1/audit/verify` to check the log still holds it.',
    security: bearer,
    middleware: [deps.requireRole('admin', 'dpo', 'viewer')] as const,
    responses: {
      200: {
        description: 'The newest head this instance has checked (null before the first entry)',
        content: {
          'application/json': {
            schema: z.object({
              head: Head.extend({ at: z.string(), alg: z.string(), signature: z.string() }).nullable(),
            }),
          },
        },
      },
      ...errorResponses,
    },
  });
  return createRouter()
    .openapi(retention, async (c) => c.json(await deps.retention.run(c.var.principal), 200))
    .openapi(reconcile, async (c) => c.json(await deps.reconcile.run(), 200))
    .openapi(rotate, async (c) => {
      const rewrapped = await deps.db.kysely.transaction().execute(async (trx) => {
        const n = await deps.subjectKeys.rewrapAll(trx);
        await deps.audit.append(
          {
            actor: c.var.principal.id,
            action: 'keys.rewrap',
            details: { rewrapped: n, activeKeyId: deps.subjectKeys.activeKeyId },
          },
          trx,
        );
        return n;
      });
      return c.json({ rewrapped, activeKeyId: deps.subjectKeys.activeKeyId }, 200);
    })
    .openapi(auditList, async (c) => {
      const q = c.req.valid('query');
      return c.json({ entries: await deps.audit.list({ afterSeq: q.after, limit: q.limit }) }, 200);
    })
    .openapi(auditVerify, async (c) => {
      const q = c.req.valid('query');
      const witnessed =
        q.seq !== undefined && q.hash !== undefined ? { seq: q.seq, hash: q.hash } : undefined;
      return c.json(await deps.audit.verify(witnessed), 200);
    })
    .openapi(auditHead, async (c) => c.json({ head: await deps.audit.head() }, 200));
}
