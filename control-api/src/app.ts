/**
 * Builds the control API from a config object and an open database: services wired by hand (factory
 * functions, explicit dependencies), routers mounted per resource, one error handler, problem+json for every
 * failure, OpenAPI 3.1 at /openapi.json and Swagger UI at /docs. `main.ts` adds the server and the timers;
 * tests and benchmarks call `createControlApi` directly.
 */
import { swaggerUI } from '@hono/swagger-ui';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { createLogger, type Logger } from '../../common/src/logger.ts';
import { createMetricsRegistry, type Registry } from '../../common/src/metrics.ts';
import { createAuditHeadFile, createAuditHeadSigner } from './audit/audit-head.ts';
import { createAuthenticator, createRequireRole } from './auth/auth.ts';
import { createRateLimiter } from './auth/rate-limit.ts';
import type { ControlApiConfig } from './config.ts';
import type { Db } from './db/db.ts';
import { createKeyStore, type SubjectKeyStore } from './keys/key-store.ts';
import { createKeyring } from './lib/crypto.ts';
import { inputGuard } from './lib/input-guard.ts';
import { ApiError, apiErrorResponse, problemResponse } from './lib/problem.ts';
import { createControlApiMetrics } from './metrics.ts';
import { adminRouter, dsrRouter } from './routes/admin.ts';
import { callsRouter } from './routes/calls.ts';
import { healthRouter } from './routes/health.ts';
import { createRouter } from './routes/router.ts';
import { subjectsRouter } from './routes/subjects.ts';
import { transcriptsRouter } from './routes/transcripts.ts';
import { webhooksRouter } from './routes/webhooks.ts';
import { agentRecoveryFactory } from './services/agent-recovery.ts';
import { auditServiceFactory } from './services/audit-service.ts';
import { callsServiceFactory } from './services/calls-service.ts';
import { gdprServiceFactory } from './services/gdpr-service.ts';
import { createLiveKitGateway, type LiveKitGateway } from './services/livekit-gateway.ts';
import { reconcileServiceFactory } from './services/reconcile-service.ts';
import { retentionServiceFactory } from './services/retention-service.ts';
import { subjectKeysFactory } from './services/subject-keys.ts';
import { transcriptsServiceFactory } from './services/transcripts-service.ts';
import { webhookServiceFactory } from './services/webhook-service.ts';
import type { AppEnv } from './types.ts';

export interface ControlApiDeps {
  config: ControlApiConfig;
  db: Db;
  logger?: Logger;
  registry?: Registry;
  /** Replaces the real LiveKit clients (the default talks to `config.livekit.url`). */
  livekit?: LiveKitGateway;
  now?: () => Date;
  /** Replaces the key store built from `config.keyStore`. */
  keyStore?: SubjectKeyStore;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;
const KB = 1024;

export function createControlApi(deps: ControlApiDeps) {
  const { config, db } = deps;
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger ?? createLogger({ level: config.logLevel, service: 'control-api' });
  const registry = deps.registry ?? createMetricsRegistry({ service: 'control-api' });
  const metrics = createControlApiMetrics(registry);
  const keyring = createKeyring(config.keyring);
  const livekit =
    deps.livekit ?? createLiveKitGateway({ ...config.livekit, agentName: config.agentName }, metrics);

  const signer = createAuditHeadSigner(config.audit.hmacKey);
  const audit = auditServiceFactory({
    db,
    now,
    key: config.audit.hmacKey,
    signer,
    headFile: createAuditHeadFile({ path: config.audit.headFile, signer }),
    logger,
    metrics,
  });
  const keyStore = deps.keyStore ?? createKeyStore(config.keyStore, keyring);
  const subjectKeys = subjectKeysFactory({ store: keyStore, activeKeyId: keyring.activeKeyId, now });
  const transcripts = transcriptsServiceFactory({ db, keyring, subjectKeys, now });
  const calls = callsServiceFactory({
    db,
    livekit,
    livekitUrl: config.livekit.url,
    keyring,
    transcripts,
    audit,
    allowedRegions: config.allowedRegions,
    logger,
    now,
  });
  const agentRecovery = agentRecoveryFactory({ db, livekit, metrics, logger });
  const webhooks = webhookServiceFactory({
    db,
    livekit: config.livekit,
    metrics,
    logger,
    now,
    onAgentLost: (room) => agentRecovery.replaceLostAgent(room),
  });
  const gdpr = gdprServiceFactory({ db, keyring, subjectKeys, audit, metrics, now });
  const retention = retentionServiceFactory({
    db,
    audit,
    subjectKeys,
    metrics,
    retentionDays: config.retentionDays,
    now,
  });
  const reconcile = reconcileServiceFactory({ db, livekit, logger, now });
  const services = {
    keyStore,
    audit,
    subjectKeys,
    transcripts,
    calls,
    webhooks,
    gdpr,
    retention,
    reconcile,
    keyring,
  };

  // Gauges computed at scrape time from the database, so they are right across restarts and replicas.
  metrics.callsActive.reset();
  registry.removeSingleMetric('calls_active');
  registry.removeSingleMetric('gdpr_dsr_overdue');
  const callsActive = new (metrics.callsActive.constructor as typeof import('prom-client').Gauge)({
    name: 'calls_active',
    help: 'Calls not yet ended',
    registers: [registry],
    async collect() {
      this.set(await calls.countActive().catch(() => 0));
    },
  });
  const dsrOverdue = new (metrics.dsrOverdue.constructor as typeof import('prom-client').Gauge)({
    name: 'gdpr_dsr_overdue',
    help: 'Data subject requests past their one-month deadline',
    registers: [registry],
    async collect() {
      this.set(await gdpr.countOverdue().catch(() => 0));
    },
  });
  void callsActive;
  void dsrOverdue;

  const requireRole = createRequireRole({
    authenticator: createAuthenticator({ staticTokens: config.staticTokens, oidc: config.oidc }),
    limiter: createRateLimiter({ limit: config.rateLimitPerMinute, windowMs: 60_000 }),
    failureLimiter: createRateLimiter({ limit: 20, windowMs: 60_000 }),
    metrics,
  });

  let shuttingDown = false;
  // Not strict: `/v1/calls/` is the same route as `/v1/calls`, for every method.
  const app = new OpenAPIHono<AppEnv>({ strict: false });

  app.use('*', requestId());
  app.use('*', async (c, next) => {
    const start = performance.now();
    await next();
    const route = routePath(c) === '/*' || c.res.status === 404 ? 'unmatched' : routePath(c);
    metrics.httpDuration.observe(
      { method: c.req.method, route, status: String(c.res.status) },
      (performance.now() - start) / 1000,
    );
  });
  const tooLarge = (c: Context) => problemResponse(c, 413, 'Content Too Large', 'request body is too large');
  const bigBody = bodyLimit({ maxSize: 1024 * KB, onError: tooLarge });
  const smallBody = bodyLimit({ maxSize: 64 * KB, onError: tooLarge });
  const bigPath = /^\/v1\/(webhooks\/|calls\/[^/]+\/transcripts\/?$)/;
  app.use('/v1/*', (c, next) => (bigPath.test(c.req.path) ? bigBody : smallBody)(c, next));
  // JSON endpoints answer 415 to other media types; the webhook endpoint takes LiveKit's webhook+json as is.
  const requireJson: MiddlewareHandler<AppEnv> = async (c, next) => {
    const hasBody = Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding');
    const type = c.req.header('content-type') ?? '';
    if (
      hasBody &&
      ['POST', 'PUT', 'PATCH'].includes(c.req.method) &&
      !c.req.path.startsWith('/v1/webhooks/')
    ) {
      if (!JSON_TYPE.test(type)) {
        return problemResponse(c, 415, 'Unsupported Media Type', 'send application/json');
      }
    }
    await next();
  };
  app.use('/v1/*', requireJson);
  // Webhook bodies are checked after their signature, on the fields that are kept (webhook-validation.ts).
  const guard = inputGuard();
  app.use('/v1/*', (c, next) => (c.req.path.startsWith('/v1/webhooks/') ? next() : guard(c, next)));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  app.route('/', healthRouter({ db, registry, isShuttingDown: () => shuttingDown }));
  app.route('/v1/webhooks', webhooksRouter({ webhooks }));
  app.route('/v1/calls', callsRouter({ calls, requireRole }));
  app.route('/v1/calls', transcriptsRouter({ transcripts, requireRole }));
  app.route('/v1/subjects', subjectsRouter({ gdpr, requireRole }));
  app.route('/v1/dsr', dsrRouter({ gdpr, requireRole }));
  app.route('/v1', adminRouter({ db, subjectKeys, retention, reconcile, audit, requireRole }));
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'riva-call-agent control API',
      version: '1.0.0',
      description: 'Calls, verified LiveKit webhooks, encrypted transcripts and GDPR data subject rights.',
    },
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json' }));

  // 405 for a known path with another method, with Allow; 404 otherwise.
  const patterns = () =>
    app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({
        method: r.method,
        re: new RegExp(`^${r.path.replace(/\/:[^/]+/g, '/[^/]+').replace(/\*/g, '.*')}/?$`),
      }));
  let compiled: ReturnType<typeof patterns> | undefined;
  app.notFound((c) => {
    compiled ??= patterns();
    const allow = [...new Set(compiled.filter((p) => p.re.test(c.req.path)).map((p) => p.method))];
    if (allow.length > 0) {
      return problemResponse(
        c,
        405,
        'Method Not Allowed',
        `use ${allow.join(', ')}`,
        {},
        { allow: allow.join(', ') },
      );
    }
    return problemResponse(c, 404, 'Not Found', 'no such resource');
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) return apiErrorResponse(c, err);
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      // Hono raises 400 for unparseable JSON bodies before zod sees them.
      return problemResponse(c, status, status === 400 ? 'Bad Request' : 'Error', err.message || undefined, {
        ...(status === 400 ? { field: 'body' } : {}),
      });
    }
    logger.error({ err, requestId: c.var.requestId }, 'request failed');
    return problemResponse(c, 500, 'Internal Server Error', 'something went wrong', {
      requestId: c.var.requestId,
    });
  });

  return {
    app,
    services,
    metrics,
    registry,
    logger,
    setShuttingDown() {
      shuttingDown = true;
    },
  };
}

export type ControlApi = ReturnType<typeof createControlApi>;
export { createRouter };
