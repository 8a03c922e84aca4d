/**
 * The LLM brain against a small OpenAI-compatible server on loopback (the wire format NIM, vLLM and
 * Ollama speak): the system prompt and the caller's words reach the model, and the streamed answer
 * becomes the agent's reply.
 */
import { createServer, type Server } from 'node:http';
import { llm, voice } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallAgent, createLlmBrain } from '../src/brains/reply-brain.ts';
import { loadFlowFile } from '../src/brains/scripted-flow.ts';
import { initTestLogging, SAMPLE_FLOW } from './support/pipeline.ts';

interface ChatRequest {
  model: string;
  stream?: boolean;
  messages: Array<{ role: string; content: string }>;
}

let server: Server;
let baseURL = '';
const requests: ChatRequest[] = [];

beforeAll(async () => {
  initTestLogging();
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      if (req.method === 'GET' && req.url?.endsWith('/models')) {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ data: [{ id: 'tiny' }] }));
        return;
      }
      const request = JSON.parse(body) as ChatRequest;
      requests.push(request);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of ['We are open ', 'from eight ', 'to six.']) {
        const chunk = {
          id: 'c1',
          object: 'chat.completion.chunk',
          created: 0,
          model: request.model,
          choices: [{ index: 0, delta: { role: 'assistant', content: piece }, finish_reason: null }],
        };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const address = server.address();
  baseURL = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1`;
});

afterAll(() => {
  server?.close();
});

describe('LLM brain', () => {
  it('sends the system prompt and the caller turn, and speaks the streamed answer', async () => {
    const brain = createLlmBrain(loadFlowFile(SAMPLE_FLOW), {
      baseURL,
      model: 'tiny',
      systemPrompt: 'You answer for the Riverside clinic.',
    });
    const session = new voice.AgentSession({
      llm: brain.llm,
      vad: null,
      turnHandling: { turnDetection: 'manual' },
    });
    await session.start({ agent: new CallAgent({ brain }) });
    try {
      const result = await session.run({ userInput: 'When are you open?' }).wait();
      result.expect.nextEvent().isMessage({ role: 'assistant' });

      const chat = requests.at(-1)!;
      expect(chat.model).toBe('tiny');
      expect(chat.messages[0]).toMatchObject({
        role: 'system',
        content: 'You answer for the Riverside clinic.',
      });
      expect(chat.messages.at(-1)).toMatchObject({ role: 'user', content: 'When are you open?' });
      const reply = session.history.items.filter(
        (i): i is llm.ChatMessage => i instanceof llm.ChatMessage && i.role === 'assistant',
      );
      expect(reply.map((m) => m.textContent)).toEqual(['We are open from eight to six.']);
    } finally {
      await session.close();
    }
  });
});
