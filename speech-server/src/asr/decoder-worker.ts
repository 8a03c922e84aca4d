/**
 * Worker-thread entry: owns exactly one PocketSphinx decoder and runs one recognition stream at a
 * time on it. PocketSphinx calls block for 10-200 ms, so they live here and never on the gRPC
 * event loop. Messages are handled strictly in order, so a stream's audio and its end can be posted
 * before the decoder has finished loading.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Decoder } from './pocketsphinx.ts';
import { Recognizer } from './recognizer.ts';
import type { WorkerData, WorkerReply, WorkerRequest } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('decoder-worker must run in a worker thread');

const data = workerData as WorkerData;
const loadStart = performance.now();
let decoder: Decoder;
try {
  decoder = new Decoder({ extraArgs: data.extraArgs });
} catch (err) {
  post({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  throw err;
}
post({ type: 'ready', loadMs: performance.now() - loadStart });

let current: { session: number; recognizer: Recognizer } | undefined;

function post(reply: WorkerReply): void {
  port?.postMessage(reply);
}

port.on('message', (msg: WorkerRequest) => {
  const started = process.cpuUsage();
  try {
    switch (msg.type) {
      case 'start':
        current = { session: msg.session, recognizer: new Recognizer(decoder, msg.options) };
        break;
      case 'audio':
        if (current?.session !== msg.session) return;
        for (const event of current.recognizer.push(new Uint8Array(msg.bytes))) {
          post({ type: 'event', session: msg.session, event });
        }
        break;
      case 'finish':
        if (current?.session !== msg.session) return;
        for (const event of current.recognizer.finish()) post({ type: 'event', session: msg.session, event });
        current = undefined;
        post({ type: 'finished', session: msg.session, cpuMs: cpuMs(started) });
        break;
      case 'abort':
        if (current?.session === msg.session) current.recognizer.abort();
        current = undefined;
        post({ type: 'finished', session: msg.session, cpuMs: cpuMs(started) });
        break;
    }
  } catch (err) {
    // A decoder error ends this stream only; the decoder is reset by aborting the utterance.
    try {
      current?.recognizer.abort();
    } catch {
      // already broken; the pool discards this worker on 'error' replies
    }
    current = undefined;
    post({ type: 'error', session: msg.session, message: err instanceof Error ? err.message : String(err) });
  }
});

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}
