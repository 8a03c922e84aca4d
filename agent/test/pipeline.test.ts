/**
 * Whole calls through the real pipeline: caller WAV at real-time pace → Silero VAD + Riva STT plugin →
 * the CPU speech server (PocketSphinx) → scripted flow → Riva TTS plugin → flite → recorded playout.
 * Each test is one short call (~15-25 s of real time), so they run one after another.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { voice } from '@livekit/agents';
import { dispose } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/src/logger.ts';
import { startSpeechServer } from '../../speech-server/src/server.ts';
import { buildSummary, writeSimulationOutputs } from '../src/simulate/report.ts';
import { readWavFile } from '../src/simulate/wav.ts';
import {
  loadCaller,
  type Pipeline,
  rivaSettings,
  rms,
  SAMPLE_CALLER_8K_MULAW,
  silence,
  startPipeline,
  testSettings,
  withLeadingSilence,
} from './support/pipeline.ts';

/** One call is ~20 s of real time; the margin is for a busy shared machine. */
const CALL_TEST_TIMEOUT_MS = 150_000;

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline();
});

afterAll(async () => {
  await pipeline?.stop();
  await dispose();
});

describe('simulated call through the whole pipeline', () => {
  it(
    'answers a two-turn call, ends on goodbye, and writes summary.json, agent.wav and mix.wav',
    async () => {
      const result = await pipeline.call({ caller: loadCaller() });

      expect(result.endReason).toBe('goodbye');
      expect(result.greeting?.text).toBe(pipeline.flow.greeting);
      expect(result.turns).toHaveLength(2);
      const [first, second] = result.turns;
      expect(first!.caller_text).toMatch(/appointment/);
      expect(first!.agent_text).toBe(pipeline.flow.reply('book an appointment').text);
      expect(second!.caller_text).toMatch(/goodbye/);
      expect(second!.agent_text).toBe(pipeline.flow.file.goodbye.reply);
      for (const turn of result.turns) {
        const l = turn.latency_ms;
        expect(l.voice_to_voice).not.toBeNull();
        expect(l.end_of_speech_to_final).not.toBeNull();
        expect(l.tts_first_audio).not.toBeNull();
        // Voice-to-voice splits into the end of the turn and the agent's own share (each rounded).
        expect(l.end_of_turn).not.toBeNull();
        expect(Math.abs(l.end_of_turn! + l.reply! - l.voice_to_voice!)).toBeLessThanOrEqual(1);
        // The agent never speaks before the caller has finished. The upper bound is loose on purpose: on a
        // shared 2-core box the CPU recogniser alone can fall seconds behind; the benchmark measures latency.
        expect(l.voice_to_voice!).toBeGreaterThan(0);
        expect(l.voice_to_voice!).toBeLessThan(10_000);
      }

      const dir = mkdtempSync(join(tmpdir(), 'agent-sim-'));
      const summary = buildSummary(result, {
        callerFile: 'sample',
        flowFile: 'sample',
        rivaUrl: pipeline.speechUrl,
      });
      const paths = writeSimulationOutputs(dir, result, summary);
      const written = JSON.parse(readFileSync(paths.summary, 'utf8')) as typeof summary;
      expect(written.turns.map((t) => Object.keys(t.latency_ms).sort())).toEqual([
        ['end_of_speech_to_final', 'end_of_turn', 'reply', 'tts_first_audio', 'voice_to_voice'],
        ['end_of_speech_to_final', 'end_of_turn', 'reply', 'tts_first_audio', 'voice_to_voice'],
      ]);
      const agentWav = readWavFile(paths.agent);
      expect(agentWav.sampleRate).toBe(16000);
      expect(rms(agentWav.samples)).toBeGreaterThan(100);
      // mix.wav: caller left, agent right, one timeline; the agent channel equals agent.wav.
      const mix = readFileSync(paths.mix);
      expect(mix.readUInt16LE(22)).toBe(2);
      expect((mix.length - 44) / 4).toBe(agentWav.samples.length);
      const firstAgentSample = Math.round((result.agentSegments[0]!.startMs / 1000) * 16000) + 800;
      expect(mix.readInt16LE(44 + firstAgentSample * 4 + 2)).toBe(agentWav.samples[firstAgentSample]);
    },
    CALL_TEST_TIMEOUT_MS,
  );

  it(
    'stops the agent within 300 ms when the caller barges in',
    async () => {
      // The caller starts talking 1.2 s into the greeting.
      const result = await pipeline.call({
        caller: withLeadingSilence(loadCaller(), 1200),
        callerStart: 'with-greeting',
      });

      expect(result.agentSegments[0]!.interrupted).toBe(true);
      expect(result.greeting?.interrupted ?? true).toBe(true);
      expect(result.bargeIns.length).toBeGreaterThanOrEqual(1);
      const cut = result.bargeIns[0]!;
      expect(cut.stopLatencyMs).toBeGreaterThanOrEqual(0);
      expect(cut.stopLatencyMs).toBeLessThanOrEqual(300);
      // No agent audio is recorded after the cut until the agent answers the caller.
      const after = result.agentSegments[1];
      if (after) expect(after.startMs).toBeGreaterThan(cut.callerSpeechStartMs);
      // The call goes on: the interrupted caller is still answered.
      expect(result.turns[0]!.agent_text).not.toBe('');
    },
    CALL_TEST_TIMEOUT_MS,
  );

  it(
    'serves an 8 kHz mu-law (SIP) caller end to end',
    async () => {
      const caller = readWavFile(SAMPLE_CALLER_8K_MULAW);
      expect(caller.sampleRate).toBe(8000);
      const result = await pipeline.call({ caller });

      // Narrow-band audio costs the CPU recogniser words, so this checks the path, not the word error rate:
      // both caller turns are transcribed and each gets an answer from the flow.
      expect(result.turns).toHaveLength(2);
      const flowReplies = new Set([
        pipeline.flow.file.fallback,
        pipeline.flow.file.goodbye.reply,
        ...pipeline.flow.file.intents.map((i) => i.reply),
      ]);
      for (const turn of result.turns) {
        expect(turn.caller_text).not.toBe('');
        expect(flowReplies.has(turn.agent_text)).toBe(true);
        expect(turn.latency_ms.voice_to_voice).toBeGreaterThan(0);
      }
      expect(rms(result.agentTrack)).toBeGreaterThan(100);
    },
    CALL_TEST_TIMEOUT_MS,
  );

  it(
    'prompts a silent caller, then releases the call',
    async () => {
      const result = await pipeline.call({
        caller: silence(20_000),
        settings: { ...testSettings, silencePromptMs: 2000, silenceReleaseMs: 2000 },
        // This caller never hangs up: the agent has to release the line.
        hangupGraceMs: 120_000,
      });

      expect(result.endReason).toBe('silence');
      expect(result.silencePrompts).toBe(1);
      const spoken = result.transcript.filter((l) => l.speaker === 'agent').map((l) => l.text);
      expect(spoken).toEqual([
        pipeline.flow.greeting,
        pipeline.flow.silencePrompt,
        pipeline.flow.silenceRelease,
      ]);
      expect(result.turns).toHaveLength(0);
    },
    CALL_TEST_TIMEOUT_MS,
  );

  it(
    'carries on when the speech server is killed and restarted on the same port mid-call',
    async () => {
      const logger = createLogger({ level: 'silent', service: 'speech-server' });
      let server = await startSpeechServer({ host: '127.0.0.1', port: 0, logger });
      await server.warmed;
      const port = server.port;
      let restarted = false;
      try {
        const result = await pipeline.call({
          caller: loadCaller(),
          riva: rivaSettings(`127.0.0.1:${port}`, pipeline.flow),
          onStarted: (call) => {
            // Kill the server like a crash while the caller is halfway through the first turn.
            call.session.on(voice.AgentSessionEventTypes.UserStateChanged, (ev) => {
              if (ev.newState !== 'speaking' || restarted) return;
              restarted = true;
              setTimeout(() => {
                server.forceStop();
                setTimeout(() => {
                  void startSpeechServer({ host: '127.0.0.1', port, logger }).then((s) => {
                    server = s;
                  });
                }, 500);
              }, 1500);
            });
          },
        });
        expect(restarted).toBe(true);
        expect(result.endReason).toBe('goodbye');
        expect(result.turns).toHaveLength(2);
        expect(result.turns[0]!.agent_text).not.toBe('');
        expect(result.turns[1]!.agent_text).toBe(pipeline.flow.file.goodbye.reply);
      } finally {
        await server.stop();
      }
    },
    CALL_TEST_TIMEOUT_MS,
  );
});
