/** JS heap plus array buffers in use after two full collections (exposes gc in this process if needed). */
export async function memoryAfterGc(): Promise<number> {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
