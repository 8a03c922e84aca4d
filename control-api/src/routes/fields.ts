/**
 * Field schemas shared by several routers. Timestamps are bounded: PostgreSQL has no year 0 and PGlite refuses
 * some far-future values, and a deadline one month after 9999-12-31 cannot be stored at all, so an extreme date
 * is a 400 here rather than a database error later.
 */
import { z } from '@hono/zod-openapi';

const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9000, 0, 1);

/** ISO 8601 date-time (offset allowed) between 1970-01-01 and 9000-01-01. */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .refine(
    (v) => {
      const t = Date.parse(v);
      return Number.isFinite(t) && t >= EARLIEST && t < LATEST;
    },
    { message: 'must be between 1970-01-01 and 9000-01-01' },
  )
  .openapi({ example: '2026-03-01T09:30:00Z' });
