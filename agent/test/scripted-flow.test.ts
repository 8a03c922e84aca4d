/**
 * The scripted flow on its own (parsing, matching) and through a real AgentSession in text-only mode
 * (`session.run`), which exercises CallAgent.llmNode, the placeholder LLM and the chat history.
 */
import { llm, voice } from '@livekit/agents';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CallAgent, createScriptedBrain, lastUserText } from '../src/brains/reply-brain.ts';
import { FlowError, loadFlowFile, parseFlow, type ScriptedFlow } from '../src/brains/scripted-flow.ts';
import { initTestLogging, SAMPLE_FLOW } from './support/pipeline.ts';

let flow: ScriptedFlow;

beforeAll(() => {
  initTestLogging();
  flow = loadFlowFile(SAMPLE_FLOW);
});

describe('flow file', () => {
  it('loads the shipped sample flow', () => {
    expect(flow.greeting).toMatch(/Riverside clinic/);
    expect(flow.file.intents.map((i) => i.name)).toContain('book_appointment');
  });

  it('matches intents on words, phrases and regular expressions, case-insensitively', () => {
    expect(flow.reply('I would like to BOOK an appointment').intent).toBe('book_appointment');
    expect(flow.reply('what are your opening hours').intent).toBe('opening_hours');
    expect(flow.reply('at ten please').intent).toBe('choose_time');
    // Whole words only: "rebooking" is not "book".
    expect(flow.reply('rebooking').intent).toBe('fallback');
  });

  it('picks the intent with the most matching patterns', () => {
    const f = parseFlow(`
greeting: hi
fallback: what?
goodbye: { patterns: [goodbye], reply: bye now }
intents:
  - { name: a, patterns: [red], reply: A }
  - { name: b, patterns: [red, blue], reply: B }
`);
    expect(f.reply('red and blue').intent).toBe('b');
    expect(f.reply('red').intent).toBe('a');
  });

  it('lets goodbye win and marks the reply as ending the call', () => {
    const reply = flow.reply('yes at ten in the morning please, thank you goodbye');
    expect(reply).toMatchObject({ intent: 'goodbye', endsCall: true, text: flow.file.goodbye.reply });
    expect(flow.isGoodbye('hello I would like to book')).toBe(false);
  });

  it('falls back when nothing matches', () => {
    expect(flow.reply('purple elephants')).toEqual({
      intent: 'fallback',
      text: flow.file.fallback,
      endsCall: false,
    });
  });

  it('accepts JSON as well as YAML', () => {
    const f = parseFlow(
      JSON.stringify({
        greeting: 'hi',
        fallback: 'what?',
        goodbye: { patterns: ['bye bye'], reply: 'ciao' },
      }),
    );
    expect(f.reply('ok bye bye').text).toBe('ciao');
    expect(f.silencePrompt).toBe('Are you still there?');
  });

  it('rejects a bad flow with a message naming the field', () => {
    expect(() => parseFlow('greeting: hi\nfallback: x\n')).toThrow(/goodbye/);
    expect(() => parseFlow('greeting: hi\nfallback: x\ngoodbye: {patterns: [], reply: y}\n')).toThrow(
      /goodbye\.patterns/,
    );
    expect(() =>
      parseFlow(
        'greeting: hi\nfallback: x\ngoodbye: {patterns: [a], reply: y}\nintents: [{name: n, patterns: ["/(/"], reply: r}]',
      ),
    ).toThrow(FlowError);
    expect(() => loadFlowFile('/nonexistent/flow.yaml')).toThrow(/cannot read flow file/);
    expect(() => loadFlowFile('/etc/hostname')).toThrow(/\.yaml, \.yml or \.json/);
  });

  it('offers plain patterns as boost phrases, not regular expressions', () => {
    const phrases = flow.boostPhrases();
    expect(phrases).toContain('appointment');
    expect(phrases.some((p) => p.startsWith('/'))).toBe(false);
  });
});

describe('scripted replies through a text-only AgentSession', () => {
  let session: voice.AgentSession | undefined;

  afterEach(async () => {
    await session?.close();
    session = undefined;
  });

  async function startSession(): Promise<voice.AgentSession> {
    const brain = createScriptedBrain(flow);
    session = new voice.AgentSession({
      llm: brain.llm,
      vad: null,
      turnHandling: { turnDetection: 'manual' },
    });
    await session.start({ agent: new CallAgent({ brain }) });
    return session;
  }

  it('answers each caller turn from the flow and keeps the history', async () => {
    const s = await startSession();
    const first = await s.run({ userInput: 'Hi, I want to book an appointment' }).wait();
    first.expect.nextEvent().isMessage({ role: 'assistant' });
    first.expect.noMoreEvents();
    const second = await s.run({ userInput: 'Tomorrow at ten in the morning' }).wait();
    second.expect.containsMessage({ role: 'assistant' });

    const texts = s.history.items
      .filter((i): i is llm.ChatMessage => i instanceof llm.ChatMessage)
      .map((m) => `${m.role}: ${m.textContent}`);
    expect(texts).toEqual([
      'user: Hi, I want to book an appointment',
      `assistant: ${flow.reply('book an appointment').text}`,
      'user: Tomorrow at ten in the morning',
      `assistant: ${flow.reply('at ten').text}`,
    ]);
  });

  it('uses the fallback for an unknown request and the goodbye reply for goodbye', async () => {
    const s = await startSession();
    await s.run({ userInput: 'Can you juggle?' }).wait();
    await s.run({ userInput: 'OK, goodbye' }).wait();
    const replies = s.history.items
      .filter((i): i is llm.ChatMessage => i instanceof llm.ChatMessage && i.role === 'assistant')
      .map((m) => m.textContent);
    expect(replies).toEqual([flow.file.fallback, flow.file.goodbye.reply]);
  });

  it('reads the last caller message from the chat context', () => {
    const ctx = llm.ChatContext.empty();
    ctx.addMessage({ role: 'user', content: 'first' });
    ctx.addMessage({ role: 'assistant', content: 'reply' });
    ctx.addMessage({ role: 'user', content: 'second' });
    expect(lastUserText(ctx)).toBe('second');
    expect(lastUserText(llm.ChatContext.empty())).toBe('');
  });
});
