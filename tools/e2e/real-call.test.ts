/**
 * Whole calls through a real LiveKit server: the control API creates the room and dispatches the agent, a
 * real WebRTC caller speaks a WAV and records what it hears, the real server's signed webhooks drive the
 * call's record, and the GDPR endpoints see the stored segments. Runs inside a network namespace (root).
 */
import { join } from 'node:path';
import { AgentDispatchClient, RoomServiceClient } from 'livekit-server-sdk';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readWavFile } from '../../agent/src/simulate/wav.ts';
import type { CallerReport } from '../caller/caller-files.ts';
import { adminFetch, adminJson, CallRefused, createCall, startCallerProcess } from '../local-stack/calls.ts';
import { REPO_ROOT } from '../local-stack/livekit-server.ts';
import { waitUntil } from '../local-stack/managed-process.ts';
import { type LocalStack, startLocalStack } from '../local-stack/stack.ts';
import {
  freshDatabase,
  metricSum,
  printStackLogs,
  recognize,
  scrape,
  stackUnavailableReason,
  waitForCall,
  wordRecall,
} from './e2e-support.ts';

const unavailable = await stackUnavailableReason();
if (unavailable) console.warn(`real LiveKit call tests skipped: ${unavailable}`);

const GREETING = 'Hello, you have reached the Riverside clinic. How can I help you today?';
const BOOKING_REPLY = 'Of course. Which day and time would suit you?';
const GOODBYE_REPLY = 'Thank you for calling the Riverside clinic. Goodbye.';
const CALLER_16K = join(REPO_ROOT, 'agent/assets/sample-caller.wav');
const CALLER_8K = join(REPO_ROOT, 'agent/assets/sample-caller-8k-mulaw.wav');

/** The agent's text as the caller received it, one entry per agent segment (delta streams joined). */
function agentTexts(report: CallerReport): string[] {
  const bySegment = new Map<string, string>();
  for (const t of report.transcriptions) {
    if (t.speaker !== 'agent') continue;
    bySegment.set(t.segmentId, (bySegment.get(t.segmentId) ?? '') + t.text);
  }
  return [...bySegment.values()].map((s) => s.trim());
}

/** The agent's recording cut at its first voice burst (the greeting), as 16 kHz PCM. */
function firstBurst(report: CallerReport, agentWav: string): Int16Array {
  const wav = readWavFile(agentWav);
  const burst = report.agentBursts[0];
  if (!burst) throw new Error('the caller heard no agent audio');
  const from = Math.max(0, Math.round(((burst.startMs - 200) * wav.sampleRate) / 1000));
  const to = Math.round((((burst.endMs ?? burst.startMs) + 300) * wav.sampleRate) / 1000);
  return wav.samples.slice(from, to);
}

describe.skipIf(unavailable !== undefined)('real calls through a real LiveKit server', () => {
  let stack: LocalStack;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const outDir = (name: string) => join(stack.workDir, 'calls', name);

  beforeAll(async () => {
    db = await freshDatabase();
    stack = await startLocalStack({ databaseUrl: db.url });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    await db?.drop();
  });

  beforeEach((ctx) => {
    ctx.onTestFailed(() => printStackLogs(stack, ctx.task.name));
  });

  it('a whole call: greeting heard, two turns, transcripts in the room, goodbye, record, export, erasure', async () => {
    const call = await createCall(stack);
    const out = outDir('whole');
    const report = await startCallerProcess(stack, { call, wav: CALLER_16K, outDir: out }).done;

    // The caller spoke both utterances, heard three agent replies, and the agent ended the call.
    expect(report.utterances).toHaveLength(2);
    expect(report.agentBursts.length).toBeGreaterThanOrEqual(3);
    expect(report.endedBy).toBe('room');
    expect(report.endReason).toBe('ROOM_DELETED');

    // The greeting as heard at the caller, transcribed by the speech server.
    const heard = await recognize(stack.rivaUrl, firstBurst(report, join(out, 'agent.wav')));
    expect(wordRecall(GREETING, heard)).toBeGreaterThanOrEqual(0.6);

    // The room's transcription streams: the agent's text, and the caller's own words interim and final.
    expect(agentTexts(report)).toEqual([GREETING, BOOKING_REPLY, GOODBYE_REPLY]);
    const own = report.transcriptions.filter((t) => t.speaker === 'caller');
    expect(own.some((t) => !t.final)).toBe(true);
    const finals = own.filter((t) => t.final).map((t) => t.text);
    expect(finals).toHaveLength(2);
    expect(finals[0]).toMatch(/appointment/);
    expect(finals[1]).toMatch(/goodbye/);

    // The record, from the real server's webhooks.
    const record = await waitForCall(stack, call.callId, 'ended', (c) => c.state === 'ended');
    expect(record.startedAt).not.toBeNull();
    expect(record.transitions?.map((t) => `${t.from}>${t.to}`)).toEqual([
      'created>in_progress',
      'in_progress>ended',
    ]);
    expect(record.participants).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'agent', state: 'left', tracksPublished: 1 }),
        expect.objectContaining({
          identity: call.callerIdentity,
          kind: 'standard',
          state: 'left',
          tracksPublished: 1,
        }),
      ]),
    );
    const segments = record.transcript ?? [];
    expect(segments.map((s) => s.speaker)).toEqual(['agent', 'caller', 'agent', 'caller', 'agent']);
    expect(segments.filter((s) => s.speaker === 'agent').map((s) => s.text)).toEqual([
      GREETING,
      BOOKING_REPLY,
      GOODBYE_REPLY,
    ]);
    expect(segments.filter((s) => s.speaker === 'caller').map((s) => s.text)).toEqual(finals);

    // Stored encrypted: no segment's plaintext is in its row.
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      const rows = await client.query<{ ciphertext: Buffer }>(
        'select ciphertext from transcript_segments where call_id = $1',
        [call.callId],
      );
      expect(rows.rows).toHaveLength(5);
      for (const row of rows.rows)
        expect(row.ciphertext.toString('latin1')).not.toMatch(/Riverside|appointment/);
    } finally {
      await client.end();
    }

    // The subject's export holds the segments; erasure removes them.
    const exported = await adminJson<{ transcriptSegments: Array<{ text: string }> }>(
      stack,
      `/v1/subjects/${call.subjectId}/export`,
      {},
      'dpo',
    );
    expect(exported.transcriptSegments.map((s) => s.text).sort()).toEqual(segments.map((s) => s.text).sort());
    const erased = await adminFetch(
      stack,
      `/v1/subjects/${call.subjectId}?reason=e2e%20erasure`,
      { method: 'DELETE' },
      'dpo',
    );
    expect(erased.status).toBe(200);
    // The subject's calls go with it.
    expect((await adminFetch(stack, `/v1/calls/${call.callId}`)).status).toBe(404);
    const after = await adminJson<{ transcriptSegments: unknown[] }>(
      stack,
      `/v1/subjects/${call.subjectId}/export`,
      {},
      'dpo',
    );
    expect(after.transcriptSegments).toEqual([]);
  }, 240_000);

  it('an 8 kHz mu-law caller is understood', async () => {
    const call = await createCall(stack);
    const report = await startCallerProcess(stack, { call, wav: CALLER_8K, outDir: outDir('8k') }).done;
    expect(report.utterances).toHaveLength(2);
    expect(agentTexts(report)).toEqual([GREETING, BOOKING_REPLY, GOODBYE_REPLY]);
    const record = await waitForCall(stack, call.callId, 'ended', (c) => c.state === 'ended');
    expect((record.transcript ?? []).filter((s) => s.speaker === 'caller')).toHaveLength(2);
  }, 240_000);

  it('a room outside the EU is refused by the control API and by the agent, and both say so', async () => {
    const refused = await createCall(stack, { region: 'us-east' }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(CallRefused);
    expect((refused as CallRefused).status).toBe(422);

    // Straight to LiveKit, bypassing the control API: the worker's region guard refuses the job.
    const { httpUrl, apiKey, apiSecret } = stack.liveKit;
    const rooms = new RoomServiceClient(httpUrl, apiKey, apiSecret);
    const dispatch = new AgentDispatchClient(httpUrl, apiKey, apiSecret);
    const room = `call-non-eu-${process.pid}`;
    await rooms.createRoom({ name: room, metadata: JSON.stringify({ region: 'us-east' }), emptyTimeout: 30 });
    await dispatch.createDispatch(room, 'riva-call-agent', { metadata: JSON.stringify({ callId: room }) });
    const worker = stack.workers[0];
    if (!worker) throw new Error('no worker');
    await worker.process.waitForLine(/job refused: outside allowed regions/, 30_000);
    const metrics = await scrape(worker.metricsUrl);
    expect(
      metricSum(metrics, 'agent_call_events_total', { event: 'job_rejected_region' }),
    ).toBeGreaterThanOrEqual(1);
    expect((await rooms.listParticipants(room)).filter((p) => p.identity.startsWith('agent-'))).toEqual([]);
    await rooms.deleteRoom(room);
  }, 120_000);

  it('every webhook the server sent was verified and applied or ignored on purpose; forged ones get 401', async () => {
    const api = stack.controlApi.url;
    const forged = await fetch(`${api}/v1/webhooks/livekit`, {
      method: 'POST',
      headers: { 'content-type': 'application/webhook+json', authorization: 'Bearer forged.token.value' },
      body: JSON.stringify({ event: 'room_finished', id: 'EV_forged', room: { name: 'call-x' } }),
      signal: AbortSignal.timeout(5000),
    });
    expect(forged.status).toBe(401);

    let metrics = '';
    await waitUntil(
      'webhooks processed',
      async () => {
        metrics = await scrape(`${api}/metrics`);
        return metricSum(metrics, 'webhook_events_total', { event: 'room_finished', result: 'applied' }) >= 2;
      },
      30_000,
    );
    const results = new Map<string, number>();
    for (const line of metrics.split('\n')) {
      const m = /^webhook_events_total\{([^}]*)\} (\S+)$/.exec(line);
      const result = m?.[1] ? /result="([^"]+)"/.exec(m[1])?.[1] : undefined;
      if (m && result) results.set(result, (results.get(result) ?? 0) + Number(m[2]));
    }
    expect(results.get('accepted') ?? 0).toBeGreaterThan(10);
    expect(results.get('unauthorized')).toBe(1);
    expect(results.get('failed') ?? 0).toBe(0);
    expect(results.get('malformed') ?? 0).toBe(0);
    // No answer from the webhook route was a server error.
    const fiveHundreds = metrics
      .split('\n')
      .filter(
        (l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('/v1/webhooks/livekit'),
      )
      .filter((l) => /status="5\d\d"/.test(l));
    expect(fiveHundreds).toEqual([]);
  }, 60_000);
});
