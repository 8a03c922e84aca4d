/**
 * 100 Riva stream faults injected mid-call → calls dropped 0, words lost 0.
 *
 * CALLS (4) concurrent calls through the production call session (Riva plugins, Silero VAD, scripted flow, agent
 * defaults), each against its own minimal Riva-protocol server (real protos, real gRPC on loopback). Each
 * caller says 8 utterances of distinct lengths; the server recognises an utterance by its length, so a
 * replayed utterance gets the same words and the finals can be compared word for word with what the caller
 * said. While the calls run, FAULTS_PER_CALL (25) faults per call hit the call's open recognition stream, half of
 * them while the caller is speaking: kill (INTERNAL reset), UNAVAILABLE, stall (results held 2.5 s) and slow
 * (every later result 400 ms late), in turn.
 */
import { voice } from '@livekit/agents';
import { dispose } from '@livekit/rtc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BenchCallResult, composeCaller, runBenchCall } from '../support/bench-call.ts';
import { type AsrFault, loudMs, MinimalRivaServer } from '../support/minimal-riva-server.ts';
import { type CallKit, callKit, clipOf, sleep, wordDiff } from './support/calls.ts';

const CALLS = 4;
const FAULTS_PER_CALL = 25;
const KINDS: AsrFault[] = ['kill', 'unavailable', 'stall', 'slow'];
const UTTERANCES = [
  { ms: 700, text: 'I would like to book an appointment' },
  { ms: 1000, text: 'next Tuesday at ten in the morning' },
  { ms: 1300, text: 'what are your opening hours' },
  { ms: 1600, text: 'can I cancel my appointment' },
  { ms: 1900, text: 'my name is Alex Smith' },
  { ms: 2200, text: 'is there parking near the clinic' },
  { ms: 2500, text: 'thank you very much' },
  { ms: 2800, text: 'goodbye' },
];

let kit: CallKit;
beforeAll(async () => {
  kit = await callKit();
});
afterAll(async () => {
  await dispose();
});

describe('Riva stream faults mid-call', () => {
  it(`survives ${CALLS * FAULTS_PER_CALL} faults with no call dropped and no word lost`, async () => {
    const clips = UTTERANCES.map((u) => clipOf(u.ms));
    const lengths = clips.map((c) => loudMs(c, 16000));
    // The server names an utterance by its speech length: the nearest of the caller's clips.
    const transcriptFor = ({ speechMs }: { speechMs: number }) => {
      let best = 0;
      for (let i = 1; i < lengths.length; i++) {
        if (Math.abs(lengths[i]! - speechMs) < Math.abs(lengths[best]! - speechMs)) best = i;
      }
      return UTTERANCES[best]!.text;
    };
    const caller = composeCaller(
      16000,
      clips.map((clip) => ({ clip, gapMs: 4500 })),
    );
    const servers = await Promise.all(
      Array.from({ length: CALLS }, async () => {
        const s = new MinimalRivaServer({ transcriptFor, ttsMsPerChar: 30 });
        await s.start();
        return s;
      }),
    );
    const started = performance.now();
    let injected = 0;
    let faultsMidSpeech = 0;
    const perKind: Record<AsrFault, number> = { kill: 0, unavailable: 0, stall: 0, slow: 0 };
    const callerMs = (caller.samples.length / 16000) * 1000;
    const faultLoop = async (server: MinimalRivaServer, callIndex: number) => {
      // Spread the faults over the caller's speaking time (after the ~3 s greeting).
      const every = (callerMs - 2000) / FAULTS_PER_CALL;
      await sleep(3500 + callIndex * 150);
      for (let f = 0; f < FAULTS_PER_CALL; f++) {
        await sleep(every * (0.3 + Math.random() * 0.4));
        const midSpeech = f % 2 === 0;
        // Mid-speech faults wait (up to 1.5 s) for the caller to be talking; any fault waits for an open stream.
        const speechDeadline = performance.now() + 1500;
        const deadline = performance.now() + 5000;
        let stream = [...server.asrStreams.values()].at(-1);
        while (
          performance.now() < deadline &&
          (!stream || (midSpeech && !stream.inSpeech && performance.now() < speechDeadline))
        ) {
          await sleep(20);
          stream = [...server.asrStreams.values()].at(-1);
        }
        if (!stream) continue;
        const kind = KINDS[(callIndex + f) % KINDS.length]!;
        if (stream.inSpeech) faultsMidSpeech++;
        if (kind === 'kill') stream.kill();
        else if (kind === 'unavailable') stream.unavailable();
        else if (kind === 'stall') stream.stall(2500);
        else stream.slow(400);
        perKind[kind]++;
        injected++;
      }
    };
    let results: BenchCallResult[];
    try {
      const calls = servers.map((server, i) =>
        runBenchCall({
          callId: `fault-${i}`,
          caller,
          brain: kit.brain(),
          riva: kit.riva(server.url),
          settings: kit.settings,
          vad: kit.vad,
          logger: kit.logger,
          maxDurationMs: callerMs + 40_000,
          onStarted: (call) =>
            call.session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (ev) => {
              if (ev.isFinal)
                server.log.push({
                  atMs: performance.now(),
                  stream: -1,
                  what: `SESSION final ${ev.transcript}`,
                });
            }),
        }),
      );
      const faults = servers.map((server, i) => faultLoop(server, i));
      results = await Promise.all(calls);
      await Promise.all(faults);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
    const expected = UTTERANCES.map((u) => u.text);
    const perCall = results.map((r) => ({ ...wordDiff(expected, r.finals), endReason: r.endReason }));
    const dropped = perCall.filter((c) => c.endReason !== 'goodbye').length;
    const lost = perCall.reduce((n, c) => n + c.lost, 0);
    const extra = perCall.reduce((n, c) => n + c.extra, 0);
    const summary = {
      test: 'riva-stream-faults',
      calls: CALLS,
      faultsInjected: injected,
      faultsByKind: perKind,
      faultsWhileCallerSpoke: faultsMidSpeech,
      asrStreamsOpened: servers.reduce((n, s) => n + s.stats.asrStreams, 0),
      callsDropped: dropped,
      wordsExpected: CALLS * expected.join(' ').split(' ').length,
      wordsLost: lost,
      wordsDuplicated: extra,
      endReasons: perCall.map((c) => c.endReason),
      seconds: Math.round((performance.now() - started) / 1000),
    };
    console.log(JSON.stringify(summary));
    perCall.forEach((c, i) => {
      if (c.lost === 0 && c.extra === 0) return;
      // Diagnosis of a failed call: what the server sent and broke, and what the session heard, in order.
      const log = servers[i]!.log.map(
        (l) => `${((l.atMs - started) / 1000).toFixed(2)} s #${l.stream} ${l.what}`,
      );
      console.log(`call ${i}: lost ${c.lost}, extra ${c.extra}\n${log.join('\n')}`);
    });
    expect(injected).toBe(CALLS * FAULTS_PER_CALL);
    expect(dropped).toBe(0);
    expect(lost).toBe(0);
    expect(extra).toBe(0);
  });
});
