/**
 * A fix for a memory leak in @livekit/agents 1.9 that grows every call by every audio frame it hears.
 *
 * The framework reads its streams in loops of `ThrowsPromise.race([reader.read(), abortPromise])` against one
 * abort promise that lives as long as the stream (`readStream` in utils.js; the caller's audio into STT, STT
 * events, VAD events). A native `Promise.race` subscribes to every contender and a promise never forgets its
 * subscribers, so each lap leaves a reaction on the long-lived abort promise that holds that lap's result: all
 * 50 audio frames a second of a call stay reachable until the call ends (measured: +4.7 MB heap and +2 MB
 * external a minute; see bench/resilience/long-call.resilience.test.ts). Upstream: livekit/agents-js#2046
 * (open; the proposed fix, #2047, changes `readStream` only), the V8 behaviour behind it: nodejs/node#17469.
 * Remove this module once the framework version in package.json no longer races against long-lived promises.
 *
 * `installLeakFreeRace()` replaces `ThrowsPromise.race` (the one class the framework races with, a subclass of
 * Promise) with a race that subscribes to each promise once, through a shared fan-out, and unsubscribes a race
 * from every contender as soon as it settles. Same result, same order of settlement as the native race (first
 * contender to settle wins; values that are not promises win in argument order), but a long-lived contender only
 * holds the races still waiting on it. Idempotent; installed by the call session module.
 */
import { ThrowsPromise } from '@livekit/throws-transformer/promise';

type Settle = { ok: true; value: unknown } | { ok: false; reason: unknown };
type Waiter = (outcome: Settle) => void;

interface Subscription {
  outcome?: Settle;
  waiters: Set<Waiter>;
}

const subscriptions = new WeakMap<PromiseLike<unknown>, Subscription>();

function subscriptionOf(promise: PromiseLike<unknown>): Subscription {
  let sub = subscriptions.get(promise);
  if (sub) return sub;
  const created: Subscription = { waiters: new Set() };
  sub = created;
  subscriptions.set(promise, created);
  const settle = (outcome: Settle) => {
    created.outcome = outcome;
    const waiters = [...created.waiters];
    created.waiters.clear();
    for (const waiter of waiters) waiter(outcome);
  };
  promise.then(
    (value) => settle({ ok: true, value }),
    (reason) => settle({ ok: false, reason }),
  );
  return created;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Promise.race semantics without leaving a reaction per race on long-lived contenders. */
export function leakFreeRace<T>(contenders: Iterable<T | PromiseLike<T>>): Promise<T> {
  return new ThrowsPromise<T, Error>((resolve, reject) => {
    const joined: Array<[Subscription, Waiter]> = [];
    let done = false;
    const finish: Waiter = (outcome) => {
      if (done) return;
      done = true;
      for (const [sub, waiter] of joined) sub.waiters.delete(waiter);
      joined.length = 0;
      if (outcome.ok) resolve(outcome.value as T);
      else reject(outcome.reason as Error);
    };
    for (const contender of contenders) {
      if (!isThenable(contender)) {
        // A plain value settles the race on the next microtask, like Promise.resolve(value).then(...).
        queueMicrotask(() => finish({ ok: true, value: contender }));
        continue;
      }
      const sub = subscriptionOf(contender);
      if (sub.outcome) {
        const outcome = sub.outcome;
        queueMicrotask(() => finish(outcome));
        continue;
      }
      const waiter: Waiter = (outcome) => finish(outcome);
      sub.waiters.add(waiter);
      joined.push([sub, waiter]);
    }
  }) as unknown as Promise<T>;
}

let installed = false;

/** Replaces ThrowsPromise.race (the framework's race) with leakFreeRace, once per process. */
export function installLeakFreeRace(): void {
  if (installed) return;
  installed = true;
  Object.defineProperty(ThrowsPromise, 'race', {
    value: leakFreeRace,
    writable: true,
    configurable: true,
  });
}
