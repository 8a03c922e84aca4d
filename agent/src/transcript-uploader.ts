/**
 * Sends finished transcript segments to the control API (`POST /v1/calls/{callId}/transcripts`) in
 * batches. Each segment gets a stable id derived from the call and its position, so a retry after a
 * lost response is de-duplicated by the server: nothing is lost during an outage and nothing arrives
 * twice. Pending segments wait in a bounded spool (memory, optionally mirrored to a file so they
 * survive a restart) and are retried with exponential backoff for as long as the call runs, then up
 * to a drain deadline.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { backoffDelayMs, sleep } from '../../common/src/http-retry.ts';
import type { Logger } from '../../common/src/logger.ts';
import type { AgentMetrics } from './metrics.ts';

export interface TranscriptSegmentInput {
  speaker: 'caller' | 'agent';
  text: string;
  startMs: number;
  endMs: number;
}

export interface TranscriptSegment extends TranscriptSegmentInput {
  id: string;
  subjectId: string;
}

export interface TranscriptUploaderOptions {
  baseUrl: string;
  token: string;
  callId: string;
  subjectId: string;
  logger: Logger;
  metrics?: AgentMetrics;
  batchSize?: number;
  /** Segments held in memory at most; older ones are dropped (and counted) past this. */
  maxSpoolSegments?: number;
  /** Optional JSON-lines file mirroring the spool. */
  spoolFile?: string;
  /** Names this uploader's segments apart from another agent's on the same call (the job id); random if unset. */
  instanceId?: string;
  requestTimeoutMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  fetchImpl?: typeof fetch;
}

/**
 * A deterministic UUID-shaped id (name-based, SHA-1 as in RFC 4122 v5) for segment `seq` written by one
 * uploader instance of a call. The instance is part of the name: when an agent dies and another takes the
 * call over (or restores the first one's spool), its numbering starts again at 0 without reusing an id the
 * control API already holds, which it would acknowledge as a duplicate and drop.
 */
export function segmentId(callId: string, instanceId: string, seq: number): string {
  const h = createHash('sha1').update(`riva-call-agent/transcript/${callId}/${instanceId}/${seq}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

class NonRetryableUploadError extends Error {}

export class TranscriptUploader {
  readonly #opts: Required<
    Omit<TranscriptUploaderOptions, 'metrics' | 'spoolFile' | 'fetchImpl' | 'instanceId'>
  > &
    Pick<TranscriptUploaderOptions, 'metrics' | 'spoolFile'>;
  readonly #fetch: typeof fetch;
  #pending: TranscriptSegment[] = [];
  #seq = 0;
  readonly #instanceId: string;
  #wake: (() => void) | undefined;
  #closing = false;
  #loop: Promise<void>;
  #delivered = 0;
  #abort = new AbortController();

  constructor(options: TranscriptUploaderOptions) {
    this.#opts = {
      batchSize: 20,
      maxSpoolSegments: 5000,
      requestTimeoutMs: 5000,
      backoff: { initialMs: 200, maxMs: 5000 },
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
    this.#fetch = options.fetchImpl ?? fetch;
    this.#instanceId = options.instanceId ?? randomUUID();
    if (this.#opts.spoolFile && existsSync(this.#opts.spoolFile)) this.#restoreSpool(this.#opts.spoolFile);
    this.#loop = this.#run();
  }

  /** Segments not yet acknowledged by the control API. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  get deliveredCount(): number {
    return this.#delivered;
  }

  add(input: TranscriptSegmentInput): TranscriptSegment {
    const segment: TranscriptSegment = {
      id: segmentId(this.#opts.callId, this.#instanceId, this.#seq++),
      subjectId: this.#opts.subjectId,
      ...input,
    };
    this.#pending.push(segment);
    if (this.#pending.length > this.#opts.maxSpoolSegments) {
      this.#pending.shift();
      this.#opts.metrics?.error('transcript_spool_overflow');
      this.#opts.logger.error({ callId: this.#opts.callId }, 'transcript spool full, oldest segment dropped');
      this.#rewriteSpool();
    } else if (this.#opts.spoolFile) {
      appendFileSync(this.#opts.spoolFile, `${JSON.stringify(segment)}\n`);
    }
    this.#wake?.();
    return segment;
  }

  /**
   * Stops taking segments and keeps retrying the rest until delivered or `deadlineMs` passes. Returns how
   * many remain (they stay in the spool file when one is configured).
   */
  async close(deadlineMs = 60_000): Promise<number> {
    this.#closing = true;
    this.#wake?.();
    const timer = setTimeout(() => this.#abort.abort(), deadlineMs);
    try {
      await this.#loop;
    } finally {
      clearTimeout(timer);
    }
    if (this.#pending.length > 0) {
      this.#opts.logger.error(
        { callId: this.#opts.callId, pending: this.#pending.length, spooled: Boolean(this.#opts.spoolFile) },
        'transcript segments not delivered before the deadline',
      );
    }
    return this.#pending.length;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#abort.signal.aborted) {
      if (this.#pending.length === 0) {
        if (this.#closing) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      const batch = this.#pending.slice(0, this.#opts.batchSize);
      try {
        await this.#send(batch);
        attempt = 0;
        this.#acknowledge(batch.length);
      } catch (err) {
        if (err instanceof NonRetryableUploadError) {
          // The API refused the data itself; retrying cannot help, so keep the line moving.
          this.#opts.metrics?.error('transcript_rejected');
          this.#opts.logger.error(
            { callId: this.#opts.callId, reason: err.message },
            'transcript batch rejected',
          );
          this.#acknowledge(batch.length);
          continue;
        }
        this.#opts.metrics?.error('transcript_upload');
        const delay = backoffDelayMs(attempt++, this.#opts.backoff);
        this.#opts.logger.warn(
          { callId: this.#opts.callId, attempt, delayMs: delay, err },
          'transcript upload failed, retrying',
        );
        try {
          await sleep(delay, this.#abort.signal);
        } catch {
          return;
        }
      }
    }
  }

  async #send(batch: TranscriptSegment[]): Promise<void> {
    const url = `${this.#opts.baseUrl}/v1/calls/${encodeURIComponent(this.#opts.callId)}/transcripts`;
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#opts.requestTimeoutMs)]);
    const res = await this.#fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#opts.token}` },
      body: JSON.stringify({
        segments: batch.map(({ id, subjectId, speaker, text, startMs, endMs }) => ({
          id,
          subjectId,
          speaker,
          text,
          startMs,
          endMs,
        })),
      }),
      signal,
    });
    // Drain the body so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    if (res.status >= 400 && res.status < 500 && ![408, 409, 425, 429].includes(res.status)) {
      throw new NonRetryableUploadError(`status ${res.status}`);
    }
    throw new Error(`status ${res.status}`);
  }

  #acknowledge(count: number): void {
    this.#pending.splice(0, count);
    this.#delivered += count;
    this.#rewriteSpool();
  }

  #rewriteSpool(): void {
    const file = this.#opts.spoolFile;
    if (!file) return;
    if (this.#pending.length === 0) {
      rmSync(file, { force: true });
      return;
    }
    // Write-then-rename so a crash never leaves a half-written spool.
    writeFileSync(`${file}.tmp`, this.#pending.map((s) => `${JSON.stringify(s)}\n`).join(''));
    renameSync(`${file}.tmp`, file);
  }

  #restoreSpool(file: string): void {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const segment = JSON.parse(line) as TranscriptSegment;
        this.#pending.push(segment);
      } catch {
        // A torn last line from a crash: the segment is still in memory of no one; skip it.
      }
    }
    // Restored segments keep their ids; this instance's own ids cannot collide with them (see segmentId).
  }
}
