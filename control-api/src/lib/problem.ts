/**
 * RFC 9457 problem details. Every error the API returns is `application/problem+json`; services throw
 * `ApiError` and the app's single error handler renders it.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    title: string,
    detail?: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'ApiError';
    this.status = status;
    this.extra = { title, ...(detail !== undefined ? { detail } : {}), ...extra };
    this.headers = headers;
  }
}

export function problemResponse(
  _c: Context,
  status: ContentfulStatusCode,
  title: string,
  detail?: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  const body: Problem = {
    type: 'about:blank',
    title,
    status,
    ...(detail !== undefined ? { detail } : {}),
    ...extra,
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
}

export function apiErrorResponse(c: Context, err: ApiError): Response {
  const { title, detail, ...rest } = err.extra as { title: string; detail?: string };
  return problemResponse(c, err.status, title, detail, rest, err.headers);
}
