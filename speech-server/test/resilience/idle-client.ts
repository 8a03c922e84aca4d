/**
 * A client process for idle-streams.resilience.test.ts: opens `count` StreamingRecognize streams that
 * send their config and then nothing, checks that one more stream is refused (so the server holds all
 * its slots for them), prints "ready" and waits to be frozen (SIGSTOP) or killed by the test.
 * Usage: node --import tsx idle-client.ts <address> <count>
 */
import { connect, PCM16K } from '../helpers.ts';
import { untilRefused } from './child.ts';

const [address, countArg] = process.argv.slice(2);
const clients = connect(address!);
const calls = Array.from({ length: Number(countArg) }, () => {
  const call = clients.asr.StreamingRecognize();
  call.on('data', () => {});
  call.on('error', () => {});
  call.write({ streaming_config: { config: PCM16K, interim_results: true } });
  return call;
});

await untilRefused(clients);
console.log(JSON.stringify({ ready: true, streams: calls.length }));
