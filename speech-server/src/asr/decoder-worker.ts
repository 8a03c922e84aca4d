/**
 * Worker-thread entry: owns exactly one PocketSphinx decoder and runs one recognition stream at a
 * time on it. PocketSphinx calls block for 10-200 ms, so they live here and never on the gRPC
 * event loop. Messages are handled strictly in order, so a stream's audio and its end can be posted
 * before the decoder has finished loading.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Decoder } from './pocketsphinx.ts';
import { Recognizer } from './recognizer.ts';
import {
  CTRL_ABORTED,
  CTRL_EXIT,
  type WorkerData,
  type WorkerReply,
  type WorkerRequest,
} from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('decoder-worker must run in a worker thread');

const data = workerData as WorkerData;
const control = new Int32Array(data.control);
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
let closed = false;

/** Frees the decoder and closes the port; the thread then ends on its own, outside any native call. */
function shutdown(): void {
  if (closed) return;
  closed = true;
  try {
    current?.recognizer.abort();
    decoder.free();
  } catch {
    // exiting anyway
  }
  current = undefined;
  port?.close();
}

function post(reply: WorkerReply): void {
  port?.postMessage(reply);
}

port.on('message', (msg: WorkerRequest) => {
  if (closed) return;
  if (msg.type === 'exit' || Atomics.load(control, CTRL_EXIT) === 1) {
    shutdown();
    return;
  }
  // Audio queued before an abort is dropped unread, so a cancelled stream frees its decoder at once.
  if ((msg.type === 'audio' || msg.type === 'finish') && Atomics.load(control, CTRL_ABORTED) === msg.session)
    return;
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
    post({
      type: 'error',
      session: 'session' in msg ? msg.session : 0,
      message: err instanceof Error ? err.message : String(err),
    });
  }
});

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}
