/**
 * Shared router plumbing: every resource router is an OpenAPIHono with the same default hook, which turns zod
 * validation errors into a 400 `application/problem+json` naming the offending field.
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { problemResponse } from '../lib/problem.ts';
import type { AppEnv } from '../types.ts';

export function validationProblem(c: Context, error: ZodError, target: string): Response {
  const errors = error.issues.map((i) => ({
    field: i.path.length > 0 ? i.path.map(String).join('.') : target,
    message: i.message,
  }));
  const first = errors[0];
  return problemResponse(
    c,
    400,
    'Bad Request',
    first ? `${first.field}: ${first.message}` : `invalid ${target}`,
    { field: first?.field ?? target, errors },
  );
}

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationProblem(c, result.error as ZodError, result.target);
      return undefined;
    },
  });
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    field: z.string().optional(),
  })
  .openapi('Problem');

export const problemContent = { 'application/problem+json': { schema: ProblemSchema } };

export const errorResponses = {
  400: { description: 'Invalid input', content: problemContent },
  401: { description: 'Missing or invalid bearer token', content: problemContent },
  403: { description: 'Role not allowed', content: problemContent },
  429: { description: 'Rate limited', content: problemContent },
} as const;

export const bearer = [{ bearerAuth: [] }];
