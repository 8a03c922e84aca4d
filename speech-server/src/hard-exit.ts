/**
 * Ends the process at once with a status code, without waiting for worker threads.
 *
 * `process.exit()` joins every worker thread first; a decoder thread inside a long PocketSphinx call
 * (ps_init under load can take seconds) cannot be interrupted, so the process would hang after
 * "stopped" and ignore further signals. libc's `_exit` skips that join: by the time it is called the
 * server has closed every call and flushed its log, and the kernel frees the decoders' memory.
 */
import koffi from 'koffi';

let exitFn: ((code: number) => void) | undefined;

export function hardExit(code: number): never {
  try {
    exitFn ??= koffi.load('libc.so.6').func('void _exit(int)') as (code: number) => void;
    exitFn(code);
  } catch {
    // no libc _exit (not glibc): fall back to Node's exit
  }
  process.exit(code);
}
