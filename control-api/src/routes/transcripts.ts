/** `POST /v1/calls/{callId}/transcripts` (role agent): idempotent by segment id, encrypted at rest. */
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { Role } from '../config.ts';
import type { TranscriptsService } from '../services/transcripts-service.ts';
import type { AppEnv } from '../types.ts';
import { SubjectId } from './calls.ts';
import { bearer, createRouter, errorResponses, problemContent } from './router.ts';

const Ms = z.number().int().min(0).max(2_147_483_647);

const SegmentIn = z
  .strictObject({
    id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only'),
    subjectId: SubjectId,
    speaker: z.enum(['caller', 'agent']),
    text: z.string().min(1).max(10_000),
    startMs: Ms,
    endMs: Ms,
  })
  .refine((s) => s.endMs >= s.startMs, { message: 'endMs must not be before startMs', path: ['endMs'] });

const IngestBody = z
  .strictObject({ segments: z.array(SegmentIn).min(1).max(500) })
  .openapi('TranscriptBatch');

const route = createRoute({
  method: 'post',
  path: '/{callId}/transcripts',
  operationId: 'ingestTranscript',
  tags: ['transcripts'],
  security: bearer,
  request: {
    params: z.object({ callId: z.uuid().openapi({ param: { name: 'callId', in: 'path' } }) }),
    body: { required: true, content: { 'application/json': { schema: IngestBody } } },
  },
  responses: {
    200: {
      description: 'Segments stored; repeats of known segment ids are counted as duplicates',
      content: { 'application/json': { schema: z.object({ accepted: z.number(), duplicates: z.number() }) } },
    },
    ...errorResponses,
    404: { description: 'No such call', content: problemContent },
    413: { description: 'Body over 1 MB', content: problemContent },
    415: { description: 'Not JSON', content: problemContent },
    422: {
      description: 'Segment subject does not belong to the call, or no transcription consent',
      content: problemContent,
    },
    423: { description: 'Subject restricted (Art. 18)', content: problemContent },
  },
});

export function transcriptsRouter(deps: {
  transcripts: TranscriptsService;
  requireRole: (...roles: Role[]) => MiddlewareHandler<AppEnv>;
}) {
  return createRouter().openapi({ ...route, middleware: [deps.requireRole('agent')] as const }, async (c) => {
    const result = await deps.transcripts.ingest(c.req.valid('param').callId, c.req.valid('json').segments);
    return c.json(result, 200);
  });
}
