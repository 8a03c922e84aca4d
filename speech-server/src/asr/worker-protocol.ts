/** Messages between the gRPC thread and a decoder worker. */
import type { RecognizerEvent, RecognizerOptions } from './recognizer.ts';

export interface WorkerData {
  extraArgs: string[];
}

export type WorkerRequest =
  | { type: 'start'; session: number; options: RecognizerOptions }
  | { type: 'audio'; session: number; bytes: ArrayBuffer }
  | { type: 'finish'; session: number }
  | { type: 'abort'; session: number };

export type WorkerReply =
  | { type: 'ready'; loadMs: number }
  | { type: 'fatal'; message: string }
  | { type: 'event'; session: number; event: RecognizerEvent }
  | { type: 'finished'; session: number; cpuMs: number }
  | { type: 'error'; session: number; message: string };
