/**
 * The two reply brains and the agent class that uses them.
 *
 * The framework only produces replies when the session has an LLM, so the scripted brain gives it a
 * placeholder LLM that is never called and overrides `llmNode` to answer from the flow instead; history,
 * interruptions, preemptive generation and metrics then behave exactly as with a real model.
 */
import { ReadableStream } from 'node:stream/web';
import { type APIConnectOptions, llm, voice } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import type { FlowReply, ScriptedFlow } from './scripted-flow.ts';

/** Stands in for an LLM when replies come from a scripted flow; `chat()` is never reached. */
export class ScriptedFlowPlaceholderLLM extends llm.LLM {
  label(): string {
    return 'scripted-flow';
  }

  override get model(): string {
    return 'scripted-flow';
  }

  chat(_options: { chatCtx: llm.ChatContext; connOptions?: APIConnectOptions }): llm.LLMStream {
    throw new Error('the scripted flow answers in CallAgent.llmNode; its placeholder LLM is never called');
  }
}

export type ReplyBrain =
  | { kind: 'scripted'; flow: ScriptedFlow; llm: llm.LLM }
  | { kind: 'llm'; flow: ScriptedFlow; llm: llm.LLM; systemPrompt: string };

export interface LlmBrainOptions {
  baseURL: string;
  model: string;
  apiKey?: string;
  systemPrompt: string;
}

export function createScriptedBrain(flow: ScriptedFlow): ReplyBrain {
  return { kind: 'scripted', flow, llm: new ScriptedFlowPlaceholderLLM() };
}

/** An OpenAI-compatible endpoint (NVIDIA NIM, vLLM, Ollama); the flow still supplies greeting and prompts. */
export function createLlmBrain(flow: ScriptedFlow, options: LlmBrainOptions): ReplyBrain {
  const model = new openai.LLM({
    baseURL: options.baseURL,
    model: options.model,
    // Local servers (Ollama, vLLM) accept any key, but the client refuses an empty one.
    apiKey: options.apiKey ?? 'not-needed',
    temperature: 0.3,
    maxCompletionTokens: 120,
  });
  return { kind: 'llm', flow, llm: model, systemPrompt: options.systemPrompt };
}

export interface ScriptedReplyEvent extends FlowReply {
  /** Milliseconds the brain took to decide (the agent's own share of the reply latency). */
  decideMs: number;
}

export interface CallAgentOptions {
  brain: ReplyBrain;
  onScriptedReply?: (reply: ScriptedReplyEvent) => void;
}

export class CallAgent extends voice.Agent {
  readonly #brain: ReplyBrain;
  readonly #onScriptedReply?: (reply: ScriptedReplyEvent) => void;

  constructor(options: CallAgentOptions) {
    super({
      instructions:
        options.brain.kind === 'llm' ? options.brain.systemPrompt : 'Replies come from a scripted call flow.',
    });
    this.#brain = options.brain;
    this.#onScriptedReply = options.onScriptedReply;
  }

  override async llmNode(
    chatCtx: llm.ChatContext,
    toolCtx: llm.ToolContext,
    modelSettings: voice.ModelSettings,
  ): Promise<ReadableStream<llm.ChatChunk | string> | null> {
    if (this.#brain.kind === 'llm') return voice.Agent.default.llmNode(this, chatCtx, toolCtx, modelSettings);
    const started = performance.now();
    const reply = this.#brain.flow.reply(lastUserText(chatCtx));
    this.#onScriptedReply?.({ ...reply, decideMs: performance.now() - started });
    return new ReadableStream<string>({
      start(controller) {
        controller.enqueue(reply.text);
        controller.close();
      },
    });
  }
}

export function lastUserText(chatCtx: llm.ChatContext): string {
  for (let i = chatCtx.items.length - 1; i >= 0; i--) {
    const item = chatCtx.items[i];
    if (item instanceof llm.ChatMessage && item.role === 'user') return item.textContent ?? '';
  }
  return '';
}
