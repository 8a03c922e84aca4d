/** Messages between the gRPC thread and a decoder worker. */
import type { RecognizerEvent, RecognizerOptions } from './recognizer.ts';

export interface WorkerData {
  extraArgs: string[];
  /**
   * Int32 slots shared with the worker: [CTRL_ABORTED] = the session being aborted (its queued
   * audio is skipped without decoding), [CTRL_EXIT] = 1 when the worker must free its decoder and
   * end. Worker.terminate() is never used: terminating a thread inside a koffi call aborts the
   * whole process (napi_throw during termination).
   */
  control: SharedArrayBuffer;
}

export const CTRL_ABORTED = 0;
export const CTRL_EXIT = 1;

export type WorkerRequest =
  | { type: 'start'; session: number; options: RecognizerOptions }
  | { type: 'audio'; session: number; bytes: ArrayBuffer }
  | { type: 'finish'; session: number }
  | { type: 'abort'; session: number }
  | { type: 'exit' };

export type WorkerReply =
  | { type: 'ready'; loadMs: number }
  | { type: 'fatal'; message: string }
  | { type: 'event'; session: number; event: RecognizerEvent }
  | { type: 'finished'; session: number; cpuMs: number }
  | { type: 'error'; session: number; message: string };
