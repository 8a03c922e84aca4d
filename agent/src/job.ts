/**
 * The job entry: one call, in its own process forked by the worker (or in-process under `console`).
 * `prewarm` loads Silero VAD before a call arrives; `entry` checks the EU guard, connects, wires the
 * call session to the room, uploads the transcript, and ends the job when the call ends.
 */
import { defineAgent, type JobContext, type JobProcess, type VAD } from '@livekit/agents';
import { createLogger } from '../../common/src/logger.ts';
import { createLlmBrain, createScriptedBrain, type ReplyBrain } from './brains/reply-brain.ts';
import { loadFlowFile, type ScriptedFlow } from './brains/scripted-flow.ts';
import { createCallSession } from './call-session.ts';
import { type AgentConfig, loadAgentConfig } from './config.ts';
import { createAgentMetrics } from './metrics.ts';
import { startJobMetricsPush } from './metrics-server.ts';
import { createRivaModels, rivaSettingsFromConfig } from './riva.ts';
import { callSettingsFromConfig, initAgentsLogger, loadCallVad } from './runtime.ts';
import { TranscriptUploader } from './transcript-uploader.ts';
import { checkJobRegion } from './worker-admission.ts';

interface ProcessData extends Record<string, unknown> {
  vad?: VAD;
}

/**
 * Dispatch metadata set by the control API: `{"callId","subjectId"}`, plus `"resumed": true` when it sends a
 * new agent into a call whose agent was lost.
 */
export function parseDispatchMetadata(
  metadata: string,
  roomName: string,
): { callId: string; subjectId?: string; resumed?: boolean } {
  try {
    const parsed = JSON.parse(metadata) as { callId?: unknown; subjectId?: unknown; resumed?: unknown };
    if (typeof parsed.callId === 'string' && parsed.callId !== '') {
      return {
        callId: parsed.callId,
        ...(typeof parsed.subjectId === 'string' && parsed.subjectId !== ''
          ? { subjectId: parsed.subjectId }
          : {}),
        ...(parsed.resumed === true ? { resumed: true } : {}),
      };
    }
  } catch {
    // Not JSON: fall back to the room name.
  }
  return { callId: roomName.startsWith('call-') ? roomName.slice(5) : roomName || 'unknown' };
}

function makeBrain(config: AgentConfig, flow: ScriptedFlow): ReplyBrain {
  if (config.BRAIN === 'llm' && config.LLM_BASE_URL && config.LLM_MODEL) {
    return createLlmBrain(flow, {
      baseURL: config.LLM_BASE_URL,
      model: config.LLM_MODEL,
      apiKey: config.LLM_API_KEY,
      systemPrompt: config.LLM_SYSTEM_PROMPT,
    });
  }
  if (config.BRAIN === 'llm') throw new Error('BRAIN=llm needs LLM_BASE_URL and LLM_MODEL');
  return createScriptedBrain(flow);
}

export default defineAgent<ProcessData>({
  prewarm: async (proc: JobProcess<ProcessData>) => {
    const config = loadAgentConfig(process.env);
    proc.userData.vad = await loadCallVad(callSettingsFromConfig(config));
  },
  entry: async (ctx: JobContext<ProcessData>) => {
    const config = loadAgentConfig(process.env);
    initAgentsLogger(config.LOG_LEVEL);
    const logger = createLogger({ level: config.LOG_LEVEL, service: 'agent' });
    const metrics = createAgentMetrics();
    const pusher = ctx.isFakeJob
      ? undefined
      : startJobMetricsPush({ registry: metrics.registry, port: config.METRICS_PORT });
    const roomName = ctx.job.room?.name ?? '';
    const { callId, subjectId, resumed } = parseDispatchMetadata(ctx.job.metadata, roomName);
    const log = logger.child({ callId, jobId: ctx.job.id });

    // Checked again here (the worker checks at accept time too) so a job can never run outside the EU.
    const verdict = checkJobRegion(config, {
      roomMetadata: ctx.job.room?.metadata,
      dispatchMetadata: ctx.job.metadata,
      publisherRegion: ctx.job.participant?.region,
    });
    if (!verdict.allowed) {
      metrics.callEvent('job_rejected_region');
      metrics.error('region_guard');
      log.warn(
        { reason: verdict.reason, source: verdict.source, value: verdict.value },
        'job refused: outside allowed regions',
      );
      await pusher?.stop();
      ctx.shutdown('region not allowed');
      return;
    }
    if (!config.RIVA_URL) throw new Error('RIVA_URL is required');

    const flow = loadFlowFile(config.FLOW_FILE);
    const brain = makeBrain(config, flow);
    const vad = ctx.proc.userData.vad ?? (await loadCallVad(callSettingsFromConfig(config)));
    const { stt, tts } = createRivaModels(
      rivaSettingsFromConfig(
        config,
        config.RIVA_URL,
        config.RIVA_BOOST_FLOW_PHRASES ? flow.boostPhrases() : [],
      ),
      metrics,
    );
    const uploader =
      config.CONTROL_API_URL && config.CONTROL_API_TOKEN && subjectId
        ? new TranscriptUploader({
            baseUrl: config.CONTROL_API_URL,
            token: config.CONTROL_API_TOKEN,
            callId,
            subjectId,
            logger,
            metrics,
            instanceId: ctx.job.id,
            spoolFile: config.TRANSCRIPT_SPOOL_FILE
              ? `${config.TRANSCRIPT_SPOOL_FILE}.${callId}.jsonl`
              : undefined,
          })
        : undefined;
    if (!uploader) log.info('transcripts are not uploaded (no control API, token or subject)');

    await ctx.connect();
    // The job's own process id: operators (and the healing test) find the process that holds this call.
    log.info({ pid: process.pid }, 'job connected');
    const call = createCallSession({
      callId,
      settings: callSettingsFromConfig(config),
      stt,
      tts,
      vad,
      brain,
      logger,
      metrics,
      transcripts: uploader,
      onEnded: async (reason) => {
        // Deleting the room hangs up every participant, a SIP caller included.
        if (reason === 'goodbye' || reason === 'silence') await ctx.deleteRoom();
      },
    });
    ctx.addShutdownCallback(async () => {
      await call.endCall('shutdown');
      await uploader?.close(30_000);
      await Promise.allSettled([stt.close(), tts.close()]);
      await pusher?.stop();
    });
    // Segment times count from the room's creation, the same for a resumed agent as for the first one.
    await call.start({ room: ctx.room, resumed, timelineStartMs: ctx.room.creationTime?.getTime() });
    void call.ended.then((reason) => ctx.shutdown(`call ended: ${reason}`));
  },
});
