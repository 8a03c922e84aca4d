import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

function capture(): { stream: PassThrough; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes JSON with the service name and redacts personal fields at any depth', async () => {
    const out = capture();
    const log = createLogger({ level: 'info', service: 'test', destination: out.stream });
    log.info(
      { callId: 'c1', text: 'my card number is 1234', segment: { transcript: 'hello', phone: '+4912345' } },
      'segment stored',
    );
    await new Promise((r) => setImmediate(r));
    const [line] = out.lines();
    expect(line).toMatchObject({ service: 'test', level: 'info', msg: 'segment stored', callId: 'c1' });
    expect(line?.text).toBe('[redacted]');
    expect(line?.segment).toEqual({ transcript: '[redacted]', phone: '[redacted]' });
    expect(JSON.stringify(line)).not.toContain('1234');
  });

  it('logs errors by type and message only', async () => {
    const out = capture();
    const log = createLogger({ level: 'info', service: 'test', destination: out.stream });
    log.error({ err: Object.assign(new Error('boom'), { code: 'E1' }) }, 'failed');
    await new Promise((r) => setImmediate(r));
    expect(out.lines()[0]?.err).toEqual({ type: 'Error', message: 'boom', code: 'E1' });
  });
});
