/**
 * Embedded key store: one file (`subject-keys.slots`) of fixed-size slots in its own directory, outside the
 * database directory and its backups. A slot holds the subject reference, the master key id and the DEK wrapped
 * (AES-256-GCM, AAD `dek:<subjectRef>`) under that master key. Destroy overwrites the slot with zeros in place
 * and fsyncs before it returns; re-wrapping after a master key rotation overwrites in place as well, so no older
 * wrapping survives in the file. Free slots are reused; the file never shrinks.
 *
 * Single writer: one process owns the directory (like PGlite's data dir). A lock file refuses a second one.
 * What this cannot promise: copy-on-write filesystems (btrfs, ZFS), snapshots of the volume and SSD wear
 * levelling may keep an old block; use the Vault store where that matters.
 */
import { closeSync, constants, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { type FileHandle, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyringService } from '../lib/crypto.ts';
import type { SubjectKeyStore } from './key-store.ts';

export const SLOT_BYTES = 160;
const REF_BYTES = 43; // base64url of an HMAC-SHA256
const KEK_ID_BYTES = 32;
const WRAPPED_BYTES = 60; // nonce 12 + key 32 + tag 16
const USED = 1;
export const SLOTS_FILE = 'subject-keys.slots';

export interface Slot {
  ref: string;
  kekId: string;
  wrapped: Buffer;
}

function encodeSlot(slot: Slot): Buffer {
  const buf = Buffer.alloc(SLOT_BYTES);
  const ref = Buffer.from(slot.ref, 'ascii');
  const kek = Buffer.from(slot.kekId, 'utf8');
  if (ref.length !== REF_BYTES || kek.length > KEK_ID_BYTES || slot.wrapped.length !== WRAPPED_BYTES) {
    throw new Error('key slot fields out of bounds');
  }
  buf[0] = USED;
  ref.copy(buf, 1);
  buf[1 + REF_BYTES] = kek.length;
  kek.copy(buf, 2 + REF_BYTES);
  slot.wrapped.copy(buf, 2 + REF_BYTES + KEK_ID_BYTES);
  return buf;
}

function decodeSlot(buf: Buffer): Slot | undefined {
  if (buf[0] !== USED) return undefined;
  const kekLen = buf[1 + REF_BYTES] ?? 0;
  const wrappedAt = 2 + REF_BYTES + KEK_ID_BYTES;
  return {
    ref: buf.subarray(1, 1 + REF_BYTES).toString('ascii'),
    kekId: buf.subarray(2 + REF_BYTES, 2 + REF_BYTES + kekLen).toString('utf8'),
    wrapped: Buffer.from(buf.subarray(wrappedAt, wrappedAt + WRAPPED_BYTES)),
  };
}

/** Every used slot of a slot file (inspection and tests). */
export function readSlotFile(dir: string): Slot[] {
  const data = readFileSync(join(dir, SLOTS_FILE));
  const out: Slot[] = [];
  for (let at = 0; at + SLOT_BYTES <= data.length; at += SLOT_BYTES) {
    const slot = decodeSlot(data.subarray(at, at + SLOT_BYTES));
    if (slot) out.push(slot);
  }
  return out;
}

/** Creates the lock file; a lock left by a process that no longer runs is taken over. */
function takeLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(lockPath, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) break;
      unlinkSync(lockPath);
    }
  }
  throw new Error(`key store lock ${lockPath} is held by another running process`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function createFileKeyStore(deps: { dir: string; keyring: KeyringService }): SubjectKeyStore {
  const { keyring } = deps;
  const path = join(deps.dir, SLOTS_FILE);
  const lockPath = join(deps.dir, 'subject-keys.lock');
  const index = new Map<string, number>();
  const slots: Array<Slot | undefined> = [];
  const free: number[] = [];
  let tail: Promise<unknown> = Promise.resolve();
  let handle: FileHandle | undefined;
  let opening: Promise<FileHandle> | undefined;

  async function openFile(): Promise<FileHandle> {
    mkdirSync(deps.dir, { recursive: true, mode: 0o700 });
    takeLock(lockPath);
    slots.length = 0;
    free.length = 0;
    index.clear();
    const fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    const { size } = await fh.stat();
    const count = Math.floor(size / SLOT_BYTES);
    const buf = Buffer.alloc(SLOT_BYTES);
    for (let i = 0; i < count; i += 1) {
      await fh.read(buf, 0, SLOT_BYTES, i * SLOT_BYTES);
      const slot = decodeSlot(buf);
      slots.push(slot);
      if (slot) index.set(slot.ref, i);
      else free.push(i);
    }
    return fh;
  }

  /** Operations run one at a time, so a slot is never written by two of them. */
  function serial<T>(fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    const run = tail.then(async () => {
      opening ??= openFile();
      handle = await opening;
      return fn(handle);
    });
    tail = run.catch(() => undefined);
    return run;
  }

  async function writeSlot(fh: FileHandle, i: number, slot: Slot | undefined): Promise<void> {
    const buf = slot ? encodeSlot(slot) : Buffer.alloc(SLOT_BYTES);
    await fh.write(buf, 0, SLOT_BYTES, i * SLOT_BYTES);
    await fh.datasync();
    slots[i] = slot;
  }

  const unwrap = (slot: Slot) => keyring.unwrap({ kekId: slot.kekId, wrapped: slot.wrapped }, slot.ref);

  return {
    kind: 'file',
    dataKey: (ref) =>
      serial(async (fh) => {
        const at = index.get(ref);
        const existing = at === undefined ? undefined : slots[at];
        if (existing) return unwrap(existing);
        const dek = keyring.newDataKey();
        const w = keyring.wrap(dek, ref);
        const i = free.shift() ?? slots.length;
        await writeSlot(fh, i, { ref, kekId: w.kekId, wrapped: w.wrapped });
        index.set(ref, i);
        return dek;
      }),
    existingDataKey: (ref) =>
      serial(async () => {
        const at = index.get(ref);
        const slot = at === undefined ? undefined : slots[at];
        return slot ? unwrap(slot) : undefined;
      }),
    destroy: (ref) =>
      serial(async (fh) => {
        const at = index.get(ref);
        if (at === undefined) return false;
        await writeSlot(fh, at, undefined);
        index.delete(ref);
        free.push(at);
        return true;
      }),
    rewrapAll: () =>
      serial(async (fh) => {
        let n = 0;
        for (const [i, slot] of slots.entries()) {
          if (!slot || slot.kekId === keyring.activeKeyId) continue;
          const w = keyring.wrap(unwrap(slot), slot.ref);
          await writeSlot(fh, i, { ref: slot.ref, kekId: w.kekId, wrapped: w.wrapped });
          n += 1;
        }
        return n;
      }),
    async close() {
      await tail;
      if (!opening) return;
      const fh = await opening.catch(() => undefined);
      opening = undefined;
      if (fh) {
        await fh.close();
        await unlink(lockPath).catch(() => {});
      }
    },
  };
}
