/**
 * A fix for a second per-turn leak in @livekit/agents 1.9: every user turn of a call stayed reachable until the
 * call ended (~19 KB a turn: +11.7 MB heap an hour in the 2-hour call test).
 *
 * `AgentActivity` chains each user-turn task to the previous one (`const oldTask = this._userTurnCompletedTask;
 * … taskFn: () => this.userTurnCompleted(info, oldTask)`, voice/agent_activity.js). A `Task` keeps its function
 * (`task.fn`) after it has run, so every finished task holds the closure of its turn (turn info, chat message,
 * speech handle) and, through `oldTask`, the whole chain of earlier turns. A heap-snapshot diff over 41 turns
 * showed +82 Task / Future / EventTarget, +123 ChatMessage, retained from `AgentActivity._userTurnCompletedTask`
 * through `fn → taskFn → oldTask → fn → …`.
 *
 * `installTaskChainRelease()` wraps `Task.prototype.runTask` so a task drops its function once it has settled.
 * Nothing reads `fn` after that (the framework calls it once, at start); the task's result, cancellation and
 * done callbacks are untouched. Idempotent; installed by the call session module. Remove once the framework
 * version in package.json releases finished tasks itself.
 */
import { Task } from '@livekit/agents';

let installed = false;

export function installTaskChainRelease(): void {
  if (installed) return;
  installed = true;
  const prototype = Task.prototype as unknown as {
    runTask(this: { fn?: unknown }): Promise<unknown>;
  };
  const runTask = prototype.runTask;
  prototype.runTask = function runTaskThenRelease(this: { fn?: unknown }) {
    return runTask.call(this).finally(() => {
      this.fn = undefined;
    });
  };
}
