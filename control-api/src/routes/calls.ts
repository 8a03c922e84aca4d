/** `/v1/calls`: create (admin, Idempotency-Key), list and read (admin, dpo, viewer), end (admin). */
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Role } from '../config.ts';
import type { CallsService } from '../services/calls-service.ts';
import type { AppEnv } from '../types.ts';
import { Timestamp } from './fields.ts';
import { bearer, createRouter, errorResponses, problemContent } from './router.ts';

type RequireRole = (...roles: Role[]) => MiddlewareHandler<AppEnv>;

export const SubjectId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'use a pseudonymous id of letters, digits and . _ : @ -')
  .openapi({ example: 'subj-8f14e45f' });

const Purpose = z.enum(['transcription', 'recording', 'analytics', 'quality_review']);

const CreateCallBody = z
  .strictObject({
    subjectId: SubjectId,
    region: z.string().min(1).max(32).default('eu-central').openapi({ example: 'eu-central' }),
    legalBasis: z.enum([
      'consent',
      'contract',
      'legal_obligation',
      'vital_interests',
      'public_task',
      'legitimate_interests',
    ]),
    consents: z
      .array(
        z.strictObject({ purpose: Purpose, granted: z.boolean(), noticeVersion: z.string().min(1).max(32) }),
      )
      .max(10)
      .default([])
      .superRefine((consents, ctx) => {
        // One choice per purpose: with two (granted, then withdrawn) the outcome would depend on array order.
        const seen = new Set<string>();
        consents.forEach((c, i) => {
          if (seen.has(c.purpose)) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'purpose'],
              message: `${c.purpose} is given more than once; send one choice per purpose`,
            });
          }
          seen.add(c.purpose);
        });
      }),
  })
  .openapi('CreateCall');

const CreatedCall = z
  .object({
    callId: z.uuid(),
    roomName: z.string(),
    region: z.string(),
    state: z.string(),
    callerIdentity: z.string(),
    callerToken: z.string(),
    livekitUrl: z.string(),
  })
  .openapi('CreatedCall');

const Segment = z.object({
  id: z.string(),
  speaker: z.string(),
  text: z.string(),
  startMs: z.number(),
  endMs: z.number(),
});

const CallView = z
  .object({
    id: z.uuid(),
    roomName: z.string(),
    region: z.string(),
    state: z.enum(['created', 'in_progress', 'ended']),
    agentState: z.string(),
    legalBasis: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    endReason: z.string().nullable(),
    participants: z
      .array(
        z.object({ identity: z.string(), kind: z.string(), state: z.string(), tracksPublished: z.number() }),
      )
      .optional(),
    transitions: z
      .array(z.object({ from: z.string(), to: z.string(), cause: z.string(), at: z.string() }))
      .optional(),
    transcript: z.array(Segment).optional().openapi({ description: 'Only for admin and dpo' }),
  })
  .openapi('Call');

const CallParams = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) });

export function callsRouter(deps: { calls: CallsService; requireRole: RequireRole }) {
  const create = createRoute({
    method: 'post',
    path: '/',
    operationId: 'createCall',
    tags: ['calls'],
    security: bearer,
    middleware: [deps.requireRole('admin')] as const,
    request: {
      headers: z.object({ 'idempotency-key': z.string().min(8).max(128).optional() }),
      body: { required: true, content: { 'application/json': { schema: CreateCallBody } } },
    },
    responses: {
      201: {
        description: 'Room created and agent dispatched',
        content: { 'application/json': { schema: CreatedCall } },
      },
      ...errorResponses,
      409: { description: 'Same Idempotency-Key still in flight', content: problemContent },
      422: {
        description: 'Region not allowed, or Idempotency-Key reused with another body',
        content: problemContent,
      },
      423: { description: 'Subject restricted (Art. 18)', content: problemContent },
      502: { description: 'LiveKit refused', content: problemContent },
    },
  });

  const list = createRoute({
    method: 'get',
    path: '/',
    operationId: 'listCalls',
    tags: ['calls'],
    security: bearer,
    middleware: [deps.requireRole('admin', 'dpo', 'viewer')] as const,
    request: {
      query: z.object({
        state: z.enum(['created', 'in_progress', 'ended']).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        before: Timestamp.optional(),
      }),
    },
    responses: {
      200: {
        description: 'Calls, newest first',
        content: { 'application/json': { schema: z.object({ calls: z.array(CallView) }) } },
      },
      ...errorResponses,
    },
  });

  const get = createRoute({
    method: 'get',
    path: '/{id}',
    operationId: 'getCall',
    tags: ['calls'],
    security: bearer,
    middleware: [deps.requireRole('admin', 'dpo', 'viewer')] as const,
    request: { params: CallParams },
    responses: {
      200: {
        description: 'The call with participants (and transcript for admin/dpo)',
        content: { 'application/json': { schema: CallView } },
      },
      ...errorResponses,
      404: { description: 'No such call', content: problemContent },
    },
  });

  const end = createRoute({
    method: 'delete',
    path: '/{id}',
    operationId: 'endCall',
    tags: ['calls'],
    security: bearer,
    middleware: [deps.requireRole('admin')] as const,
    request: { params: CallParams },
    responses: {
      200: { description: 'The call, ended', content: { 'application/json': { schema: CallView } } },
      ...errorResponses,
      404: { description: 'No such call', content: problemContent },
      502: { description: 'LiveKit refused', content: problemContent },
    },
  });

  return createRouter()
    .openapi(create, async (c) => {
      const created = await deps.calls.create(
        c.var.principal,
        c.req.valid('header')['idempotency-key'],
        c.req.valid('json'),
      );
      const { replayed, ...body } = created;
      if (replayed) c.header('idempotent-replayed', 'true');
      c.header('location', `/v1/calls/${body.callId}`);
      return c.json(body, 201);
    })
    .openapi(list, async (c) => {
      const q = c.req.valid('query');
      const calls = await deps.calls.list({ state: q.state, limit: q.limit, before: q.before });
      return c.json({ calls: calls as z.infer<typeof CallView>[] }, 200);
    })
    .openapi(get, async (c) => {
      const roles = c.var.principal.roles;
      const transcript = roles.includes('admin') || roles.includes('dpo');
      const call = await deps.calls.get(c.req.valid('param').id, { transcript });
      return c.json(call as z.infer<typeof CallView>, 200);
    })
    .openapi(end, async (c) => {
      const call = await deps.calls.end(c.var.principal, c.req.valid('param').id);
      return c.json(call as z.infer<typeof CallView>, 200);
    });
}
