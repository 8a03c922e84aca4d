/**
 * Text the database cannot store, refused at the door. PostgreSQL rejects NUL in `text` and `jsonb`, and a
 * lone UTF-16 surrogate (which JSON can carry as `\ud800`) in `jsonb`; both used to surface as 500s. Other
 * control characters are refused too: nothing this API stores needs them, and they make logs and exports
 * misleading. Tab, line feed and carriage return stay allowed in free text unless `strict`.
 *
 * `inputGuard` checks every query parameter, path segment and JSON body field of a request before any route
 * sees it and answers 400 problem JSON naming the field. Webhook bodies are checked after their signature, on
 * the fields that are kept (webhook-validation.ts).
 */
import type { MiddlewareHandler } from 'hono';
import { problemResponse } from './problem.ts';

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** C0 controls, DEL and C1 controls; tab, LF and CR only when `strict`. */
function isControl(code: number, strict: boolean): boolean {
  if (code < 0x20) return strict || (code !== TAB && code !== LF && code !== CR);
  return code >= 0x7f && code <= 0x9f;
}

/** Nesting deeper than this is refused rather than walked (no schema here nests beyond a few levels). */
export const MAX_DEPTH = 32;

/** Why `s` cannot be stored, or undefined if it can. */
export function textProblem(s: string, options: { strict?: boolean } = {}): string | undefined {
  const strict = options.strict ?? false;
  for (let i = 0; i < s.length; i += 1) {
    const code = s.charCodeAt(i);
    if (isControl(code, strict)) return 'control characters are not allowed';
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      // A high surrogate followed by a low one is a pair; anything else is unpaired.
      if (code > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff))
        return 'unpaired UTF-16 surrogates are not allowed';
      i += 1;
    }
  }
  return undefined;
}

/**
 * The first string (object key or value) in a parsed JSON value that cannot be stored, with its dotted path.
 * Iterative, so a deeply nested body cannot exhaust the stack.
 */
export function findTextProblem(
  value: unknown,
  root: string,
  options: { strict?: boolean } = {},
): { field: string; message: string } | undefined {
  const stack: Array<{ v: unknown; path: string[]; depth: number }> = [{ v: value, path: [], depth: 0 }];
  const name = (path: string[]) => (path.length > 0 ? path.join('.') : root);
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const message = textProblem(v, options);
      if (message) return { field: name(path), message };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DEPTH) return { field: name(path), message: 'nested too deeply' };
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((item, i) => [String(i), item])
      : Object.entries(v as Record<string, unknown>);
    // Reverse, so the first offending field in document order is the one reported.
    for (const [key, item] of entries.reverse()) {
      const message = textProblem(key, { strict: true });
      if (message) return { field: name([...path, key]), message: `field name: ${message}` };
      stack.push({ v: item, path: [...path, key], depth: depth + 1 });
    }
  }
  return undefined;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

function badRequest(c: Parameters<MiddlewareHandler>[0], field: string, message: string): Response {
  return problemResponse(c, 400, 'Bad Request', `${field}: ${message}`, {
    field,
    errors: [{ field, message }],
  });
}

/** Refuses unstorable text in the path, the query and JSON bodies (not in webhook bodies; see above). */
export function inputGuard(): MiddlewareHandler {
  return async (c, next) => {
    for (const segment of c.req.path.split('/')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return badRequest(c, 'path', 'invalid percent-encoding');
      }
      const message = textProblem(decoded, { strict: true });
      if (message) return badRequest(c, 'path', message);
    }
    for (const [key, values] of Object.entries(c.req.queries())) {
      const keyProblem = textProblem(key, { strict: true });
      if (keyProblem) return badRequest(c, 'query', keyProblem);
      for (const v of values) {
        const message = textProblem(v);
        if (message) return badRequest(c, key, message);
      }
    }
    if (
      ['POST', 'PUT', 'PATCH'].includes(c.req.method) &&
      JSON_TYPE.test(c.req.header('content-type') ?? '')
    ) {
      // Parsed once and cached by Hono; the route's validator reads the same result (or the same error).
      const body = await c.req.json().catch(() => undefined);
      const found = findTextProblem(body, 'body');
      if (found) return badRequest(c, found.field, found.message);
    }
    await next();
  };
}
