/**
 * Audio plumbing for streaming recognition: re-framing whatever frame sizes arrive (the framework's
 * resampler emits irregular sizes, telephony 10/20 ms, files anything) into fixed ~100 ms chunks, and the
 * bounded history of audio since the last final that is replayed into a new stream after a reconnect.
 */

/** Cuts a PCM16 mono sample stream into fixed-size byte chunks. */
export class Reframer {
  readonly chunkSamples: number;
  #buf: Int16Array;
  #fill = 0;

  constructor(chunkSamples: number) {
    this.chunkSamples = chunkSamples;
    this.#buf = new Int16Array(chunkSamples);
  }

  /** Adds samples; returns every chunk that became complete (each a fresh Buffer the caller owns). */
  write(samples: Int16Array): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (off < samples.length) {
      const n = Math.min(this.chunkSamples - this.#fill, samples.length - off);
      this.#buf.set(samples.subarray(off, off + n), this.#fill);
      this.#fill += n;
      off += n;
      if (this.#fill === this.chunkSamples) {
        out.push(Buffer.from(this.#buf.buffer.slice(0, this.chunkSamples * 2)));
        this.#fill = 0;
      }
    }
    return out;
  }

  /** Returns the partial chunk, if any (on flush or end of input). */
  flush(): Buffer | undefined {
    if (this.#fill === 0) return undefined;
    const b = Buffer.from(this.#buf.buffer.slice(0, this.#fill * 2));
    this.#fill = 0;
    return b;
  }
}

export interface BufferedChunk {
  /** Position of the first sample in the stream's audio timeline. */
  start: number;
  data: Buffer;
  /** `performance.now()` when last written to a Riva call; undefined while unsent. */
  sentAt: number | undefined;
}

/**
 * Audio since the last final, in order. While connected every chunk is sent and kept for replay (bounded
 * by `replayLimitSamples`, oldest cut first); while disconnected new chunks wait here (bounded by
 * `pendingLimitSamples`; what falls off is audio lost, reported to the caller).
 */
export class ReplayBuffer {
  readonly #chunks: BufferedChunk[] = [];
  #head = 0;
  #end = 0;
  #truncatedSamples = 0;

  constructor(
    readonly replayLimitSamples: number,
    readonly pendingLimitSamples: number,
  ) {}

  /** Timeline position just after the newest chunk. */
  get end(): number {
    return this.#end;
  }

  /** Timeline position of the oldest chunk kept (= `end` when empty). */
  get start(): number {
    return this.#chunks[this.#head]?.start ?? this.#end;
  }

  get size(): number {
    return this.#chunks.length - this.#head;
  }

  /** Samples of sent history cut off since the last commit (words there are lost if we reconnect now). */
  get truncatedSamples(): number {
    return this.#truncatedSamples;
  }

  clearTruncated(): void {
    this.#truncatedSamples = 0;
  }

  /** Appends a chunk; returns the number of samples of never-sent audio dropped to honour the bounds. */
  push(data: Buffer, sentAt: number | undefined): number {
    const samples = data.length >> 1;
    this.#chunks.push({ start: this.#end, data, sentAt });
    this.#end += samples;
    return this.#enforce();
  }

  /** Drops history the server has finalized (everything before `position`), splitting a straddling chunk. */
  commit(position: number): void {
    while (this.#head < this.#chunks.length) {
      const c = this.#chunks[this.#head]!;
      const cEnd = c.start + (c.data.length >> 1);
      if (cEnd <= position) {
        this.#head++;
        continue;
      }
      if (c.start < position) {
        const cut = position - c.start;
        c.data = c.data.subarray(cut * 2);
        c.start = position;
      }
      break;
    }
    this.#truncatedSamples = 0;
    this.#compact();
  }

  /** The chunks in order (for replay). */
  *chunks(): Generator<BufferedChunk> {
    for (let i = this.#head; i < this.#chunks.length; i++) yield this.#chunks[i]!;
  }

  /**
   * Marks every chunk unsent (the call they went to is gone); all of it now waits for the next call, so
   * the pending bound applies to it. Returns the samples dropped to honour it.
   */
  markAllUnsent(): number {
    for (const c of this.chunks()) c.sentAt = undefined;
    return this.#enforce();
  }

  /** The chunk holding timeline sample `position`, if still kept. */
  find(position: number): BufferedChunk | undefined {
    for (let i = this.#chunks.length - 1; i >= this.#head; i--) {
      const c = this.#chunks[i]!;
      if (c.start <= position && position < c.start + (c.data.length >> 1)) return c;
      if (c.start + (c.data.length >> 1) <= position) return undefined;
    }
    return undefined;
  }

  #enforce(): number {
    let dropped = 0;
    let sent = 0;
    let pending = 0;
    for (const c of this.chunks()) {
      if (c.sentAt === undefined) pending += c.data.length >> 1;
      else sent += c.data.length >> 1;
    }
    // Sent chunks always precede unsent ones (we send in order), so cutting from the head is right for both.
    while (this.size > 0 && (sent > this.replayLimitSamples || pending > this.pendingLimitSamples)) {
      const c = this.#chunks[this.#head]!;
      const n = c.data.length >> 1;
      if (c.sentAt === undefined) {
        if (pending <= this.pendingLimitSamples) break;
        pending -= n;
        dropped += n;
      } else {
        sent -= n;
        this.#truncatedSamples += n;
      }
      this.#head++;
    }
    this.#compact();
    return dropped;
  }

  #compact(): void {
    if (this.#head > 256 && this.#head * 2 > this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

/**
 * Cuts PCM16 bytes from Riva (any response size, even odd byte counts) into fixed-size frames for the
 * framework. (The framework's AudioByteStream re-copies its whole buffer byte by byte on every write.)
 */
export class PcmFramer {
  readonly #frameBytes: number;
  #buf: Buffer;
  #fill = 0;

  constructor(readonly frameSamples: number) {
    this.#frameBytes = frameSamples * 2;
    this.#buf = Buffer.alloc(this.#frameBytes);
  }

  /** Returns the Int16 sample arrays of every complete frame. */
  write(bytes: Buffer): Int16Array[] {
    const out: Int16Array[] = [];
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(this.#frameBytes - this.#fill, bytes.length - off);
      bytes.copy(this.#buf, this.#fill, off, off + n);
      this.#fill += n;
      off += n;
      if (this.#fill === this.#frameBytes) {
        out.push(
          new Int16Array(
            this.#buf.buffer.slice(this.#buf.byteOffset, this.#buf.byteOffset + this.#frameBytes),
          ),
        );
        this.#fill = 0;
      }
    }
    return out;
  }

  /** The partial last frame (a trailing odd byte is dropped: it cannot be a sample). */
  flush(): Int16Array | undefined {
    const even = this.#fill & ~1;
    this.#fill = 0;
    if (even === 0) return undefined;
    return new Int16Array(this.#buf.buffer.slice(this.#buf.byteOffset, this.#buf.byteOffset + even));
  }
}
