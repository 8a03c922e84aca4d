/**
 * Metrics pushed by job processes, held by the main process and summed into its /metrics.
 *
 * A push is checked before it is kept, so one bad push cannot break /metrics for everyone: its shape (zod), its
 * names and labels (Prometheus rules), its types against the metrics already known, and finally a trial render
 * of the whole sum with it. The number of pushers and the size of each push are bounded (`PushLimits`).
 *
 * When a job ends (its final push, or silence for `staleMs` after a crash) its series are dropped: counters and
 * histograms are folded into one retired total, so sums never go backwards; its gauges go, since a finished job
 * has no current value.
 */
import { AggregatorRegistry } from 'prom-client';
import { z } from 'zod';

/** One metric as prom-client's `getMetricsAsJSON` gives it (the fields this module relies on). */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string | undefined }>;
}

export type MetricsJson = MetricJson[];

export interface PushLimits {
  /** Job processes with live series at once; a new one beyond this is refused with 429. */
  maxPushers: number;
  /** Bytes of one push body (413 beyond). */
  maxBytes: number;
  /** Metrics in one push. */
  maxMetrics: number;
  /** Samples in one metric of one push. */
  maxValues: number;
  /** A pusher silent this long is treated as ended (a crashed job sends no final push). */
  staleMs: number;
}

export const DEFAULT_PUSH_LIMITS: PushLimits = {
  maxPushers: 64,
  maxBytes: 512 * 1024,
  maxMetrics: 200,
  maxValues: 2_000,
  staleMs: 60_000,
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const AGGREGATORS = ['sum', 'first', 'min', 'max', 'average', 'omit'] as const;
/** Types whose totals survive their job (folded into the retired sum). */
const MONOTONIC = new Set(['counter', 'histogram']);

function pushSchema(limits: PushLimits) {
  // Unknown keys are stripped (and what is kept is the parsed result), so prom-client extras do no harm.
  const value = z.object({
    value: z.number().refine(Number.isFinite, 'must be a finite number'),
    labels: z
      .record(z.string().regex(LABEL_NAME).max(128), z.union([z.string().max(256), z.number()]))
      .refine((l) => Object.keys(l).length <= 16, 'at most 16 labels'),
    metricName: z.string().regex(METRIC_NAME).max(200).optional(),
  });
  const metric = z
    .object({
      name: z.string().regex(METRIC_NAME).max(200),
      help: z.string().max(1024),
      type: z.enum(['counter', 'gauge', 'histogram', 'summary']),
      values: z.array(value).max(limits.maxValues),
      aggregator: z.enum(AGGREGATORS),
    })
    .refine((m) => m.values.every((v) => v.metricName === undefined || v.metricName.startsWith(m.name)), {
      message: 'metricName must extend the metric name',
    });
  return z.object({
    pid: z
      .number()
      .int()
      .positive()
      .max(2 ** 31),
    final: z.boolean(),
    metrics: z
      .array(metric)
      .max(limits.maxMetrics)
      .refine((ms) => new Set(ms.map((m) => m.name)).size === ms.length, 'metric names must be unique'),
  });
}

export type JobPush = { pid: number; final: boolean; metrics: MetricsJson };

export type PushOutcome = { status: 204 } | { status: 400 | 429; problem: string };

export function createJobMetricsStore(options: {
  /** The main process's own metrics, which pushes are summed with. */
  own: () => Promise<MetricsJson>;
  limits?: Partial<PushLimits>;
  now?: () => number;
}) {
  const limits = { ...DEFAULT_PUSH_LIMITS, ...options.limits };
  const now = options.now ?? Date.now;
  const schema = pushSchema(limits);
  const live = new Map<number, { metrics: MetricsJson; at: number }>();
  let retired: MetricsJson = [];
  /** Serialises changes, so a trial render and the change it approves see the same state. */
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };

  async function retire(metrics: MetricsJson): Promise<void> {
    const kept = metrics.filter((m) => MONOTONIC.has(m.type));
    if (kept.length === 0) return;
    retired = (await AggregatorRegistry.aggregate([
      kept,
      retired,
    ]).getMetricsAsJSON()) as unknown as MetricsJson;
  }

  async function dropStale(): Promise<void> {
    const cutoff = now() - limits.staleMs;
    for (const [pid, entry] of live) {
      if (entry.at >= cutoff) continue;
      live.delete(pid);
      await retire(entry.metrics);
    }
  }

  /** Every part of the sum, with `replace` standing in for pid's live series. */
  async function parts(replace?: { pid: number; metrics: MetricsJson | undefined }): Promise<MetricsJson[]> {
    const out: MetricsJson[] = [await options.own()];
    for (const [pid, entry] of live) if (pid !== replace?.pid) out.push(entry.metrics);
    if (replace?.metrics) out.push(replace.metrics);
    out.push(retired);
    return out;
  }

  /** Why `candidate` cannot join the sum (type clash with a known metric, or a render that fails). */
  async function conflict(all: MetricsJson[], candidate: MetricsJson): Promise<string | undefined> {
    const known = new Map<string, { type: string; aggregator: string }>();
    for (const part of all) {
      if (part === candidate) continue;
      for (const m of part) known.set(m.name, { type: m.type, aggregator: m.aggregator });
    }
    for (const m of candidate) {
      const k = known.get(m.name);
      if (k && (k.type !== m.type || k.aggregator !== m.aggregator)) {
        return `metric ${m.name} is a ${k.type} (${k.aggregator}), not a ${m.type} (${m.aggregator})`;
      }
    }
    try {
      await AggregatorRegistry.aggregate(all).metrics();
      return undefined;
    } catch {
      return 'metrics cannot be combined with the ones already known';
    }
  }

  return {
    limits,

    /** Checks and keeps (or, for a final push, retires) one push body. */
    accept(body: string): Promise<PushOutcome> {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        return Promise.resolve({ status: 400, problem: 'push is not JSON' });
      }
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.map(String).join('.') || 'push';
        return Promise.resolve({ status: 400, problem: `${where}: ${issue?.message ?? 'invalid'}` });
      }
      const push: JobPush = parsed.data;
      return serial(async () => {
        await dropStale();
        if (!push.final && !live.has(push.pid) && live.size >= limits.maxPushers) {
          return { status: 429, problem: `at most ${limits.maxPushers} job processes may push at once` };
        }
        const all = await parts({ pid: push.pid, metrics: push.metrics });
        const problem = await conflict(all, push.metrics);
        if (problem) return { status: 400, problem };
        if (push.final) {
          live.delete(push.pid);
          await retire(push.metrics);
        } else {
          live.set(push.pid, { metrics: push.metrics, at: now() });
        }
        return { status: 204 };
      });
    },

    /** Drops a job's live series (its counters and histograms stay in the retired total). */
    endJob(pid: number): Promise<void> {
      return serial(async () => {
        const entry = live.get(pid);
        if (!entry) return;
        live.delete(pid);
        await retire(entry.metrics);
      });
    },

    /** The sum of the main registry, every live job and the retired total, in the text format. */
    render(): Promise<string> {
      return serial(async () => {
        await dropStale();
        return AggregatorRegistry.aggregate(await parts()).metrics();
      });
    },

    get pushers(): number {
      return live.size;
    },
  };
}

export type JobMetricsStore = ReturnType<typeof createJobMetricsStore>;
