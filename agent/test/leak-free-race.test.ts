import { ThrowsPromise } from '@livekit/throws-transformer/promise';
import { describe, expect, it } from 'vitest';
import { installLeakFreeRace, leakFreeRace } from '../src/leak-free-race.ts';
import { memoryAfterGc } from './support/heap.ts';

const later = <T>(ms: number, value: T) => new Promise<T>((r) => setTimeout(() => r(value), ms));
const failLater = (ms: number, message: string) =>
  new Promise<never>((_, reject) => setTimeout(() => reject(new Error(message)), ms));

describe('leakFreeRace', () => {
  it('settles like Promise.race: first to fulfil, first to reject, plain values, already settled', async () => {
    await expect(leakFreeRace([later(30, 'slow'), later(5, 'fast')])).resolves.toBe('fast');
    await expect(leakFreeRace([later(30, 'slow'), failLater(5, 'boom')])).rejects.toThrow('boom');
    await expect(leakFreeRace([later(5, 'promise'), 'plain'])).resolves.toBe('plain');
    await expect(leakFreeRace(['first', 'second'])).resolves.toBe('first');
    const settled = Promise.resolve('settled');
    await settled;
    await expect(leakFreeRace([new Promise(() => {}), settled])).resolves.toBe('settled');
    // A contender that already lost keeps working in later races.
    const shared = later(20, 'shared');
    await expect(leakFreeRace([shared, later(1, 'a')])).resolves.toBe('a');
    await expect(leakFreeRace([shared, later(60, 'b')])).resolves.toBe('shared');
    await expect(leakFreeRace([shared, 'c'])).resolves.toBe('shared');
    // Same order as the native race when both are ready.
    const a = Promise.resolve(1);
    const b = Promise.resolve(2);
    expect(await leakFreeRace([a, b])).toBe(await Promise.race([a, b]));
    // Thenables that are not promises, and an empty race that never settles.
    // biome-ignore lint/suspicious/noThenProperty: a hand-made thenable is the point of this case
    const thenable = { then: (ok: (v: string) => void) => ok('thenable') };
    await expect(leakFreeRace([thenable, new Promise(() => {})])).resolves.toBe('thenable');
    const never = leakFreeRace([]);
    await expect(Promise.race([never, later(10, 'timeout')])).resolves.toBe('timeout');
  });

  it('replaces ThrowsPromise.race, which the framework reads its streams with', async () => {
    installLeakFreeRace();
    installLeakFreeRace();
    expect(ThrowsPromise.race).toBe(leakFreeRace);
    await expect(ThrowsPromise.race([later(10, 'x'), later(1, 'y')])).resolves.toBe('y');
  });

  it('does not keep the results of finished races on a long-lived contender', async () => {
    // The framework's pattern: every read races one abort promise that settles only when the stream ends.
    const read = async (race: typeof Promise.race, laps: number, abort: Promise<void>) => {
      for (let i = 0; i < laps; i++) await race([Promise.resolve(new Uint8Array(1024)), abort]);
    };
    const measure = async (race: typeof Promise.race) => {
      let end!: () => void;
      const abort = new Promise<void>((r) => {
        end = r;
      });
      const before = await memoryAfterGc();
      await read(race, 5000, abort);
      const grown = (await memoryAfterGc()) - before;
      end();
      return grown;
    };
    const native = await measure(Promise.race.bind(Promise));
    const fixed = await measure(leakFreeRace as typeof Promise.race);
    // 5000 laps × 1 KiB: the native race keeps ~5 MB reachable, the fixed one keeps none of it.
    expect(native).toBeGreaterThan(4 * 2 ** 20);
    expect(fixed).toBeLessThan(2 ** 20);
  });
});
