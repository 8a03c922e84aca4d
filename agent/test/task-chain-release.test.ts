import { initializeLogger, Task } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import { installTaskChainRelease } from '../src/task-chain-release.ts';
import { memoryAfterGc } from './support/heap.ts';

/** The framework's pattern: each turn's task awaits the previous one and closes over it and its turn data. */
async function chainTurns(turns: number): Promise<Task<number>> {
  let last: Task<number> | undefined;
  for (let i = 0; i < turns; i++) {
    const oldTask = last;
    const turnData = new Array(256).fill(i); // ~2 KB of per-turn state in the closure
    last = Task.from(async () => {
      if (oldTask) await oldTask.result;
      return turnData.length;
    });
    await last.result;
  }
  return last!;
}

initializeLogger({ pretty: false, level: 'error' });

describe('installTaskChainRelease', () => {
  it('keeps results and lets a chain of finished turn tasks be collected', async () => {
    const before = await memoryAfterGc();
    const unpatched = await chainTurns(3000);
    const keptUnpatched = (await memoryAfterGc()) - before;
    expect(await unpatched.result).toBe(256);

    installTaskChainRelease();
    installTaskChainRelease();
    const base = await memoryAfterGc();
    const patched = await chainTurns(3000);
    const keptPatched = (await memoryAfterGc()) - base;
    expect(await patched.result).toBe(256);
    expect(patched.done).toBe(true);
    // 3,000 turns × ~2 KB stay reachable through the chain without the fix, none with it.
    expect(keptUnpatched).toBeGreaterThan(4 * 2 ** 20);
    expect(keptPatched).toBeLessThan(2 ** 20);
    expect(unpatched).toBeDefined(); // keeps the unpatched chain alive until both were measured
  });

  it('still reports errors and cancellation of a released task', async () => {
    installTaskChainRelease();
    const failing = Task.from(async () => {
      throw new Error('turn failed');
    });
    await expect(failing.result).rejects.toThrow('turn failed');
    const controller = new AbortController();
    const cancelled = Task.from(async ({ signal }) => {
      await new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () =>
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        );
      });
    }, controller);
    controller.abort();
    await expect(cancelled.result).rejects.toThrow('aborted');
    expect(cancelled.cancelled).toBe(true);
  });
});
