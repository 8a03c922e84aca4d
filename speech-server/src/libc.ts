/**
 * Two glibc calls Node does not offer, bound with koffi (already used for PocketSphinx).
 *
 * - `_exit`: `process.exit()` joins every worker thread first; a decoder thread inside a long
 *   PocketSphinx call (ps_init under load can take seconds) cannot be interrupted, so the process would
 *   hang after "stopped" and ignore further signals. `_exit` skips that join: by the time it is called
 *   the server has closed every call and flushed its log, and the kernel frees the decoders' memory.
 * - `malloc_trim`: a freed decoder (~95 MB of model tables, allocated in its thread's malloc arena)
 *   goes back to glibc, not to the kernel; without a trim a burst of streams leaves the process at its
 *   peak RSS for good.
 *
 * Both fall back to doing nothing special where there is no glibc.
 */
import koffi from 'koffi';

type Libc = { exit: (code: number) => void; trim: (pad: number) => number } | null;
let libc: Libc | undefined;

function load(): Libc {
  if (libc !== undefined) return libc;
  try {
    const lib = koffi.load('libc.so.6');
    libc = {
      exit: lib.func('void _exit(int)') as (code: number) => void,
      trim: lib.func('int malloc_trim(size_t)') as (pad: number) => number,
    };
  } catch {
    libc = null;
  }
  return libc;
}

export function hardExit(code: number): never {
  load()?.exit(code);
  process.exit(code);
}

/** Returns free heap memory of every malloc arena to the kernel (cheap: a few ms). */
export function trimNativeHeap(): void {
  load()?.trim(0);
}
