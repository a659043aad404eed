/**
 * The file store's audit log on disk: an append-only hash chain split into segments so an append
 * costs the same whatever the log's length, and an auditor can verify one segment or all.
 *
 *   audit.jsonl                       the active segment, one entry per line
 *   audit.head                        {seq, hash, segmentStart}: the last entry and where the
 *                                     active segment starts
 *   audit/<first>-<last>.jsonl        closed segments (12-digit zero-padded seqs), never rewritten
 *
 * An append reads the head and the active segment's last line only (a few KB from the file's end),
 * checks that they agree, and chains after them; a batch of entries is written with one write and
 * one fsync (the store's group commit). The first entry of a segment links to the last
 * entry of the previous one, so the chain runs unbroken across segments. Callers hold the store's
 * audit lock.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StateError } from '../errors';
import { chainAuditEntry, verifyAuditChain } from './audit-chain';
import { fileSource, readRecordFile, syncDescriptor, syncDirectory, writeFileAtomic } from './json-files';
import { auditEntrySchema, auditHeadSchema, parseStoredJson } from './schemas';
import { assertHeadNotAhead } from './store-rules';
import type { AuditEntry, AuditHead, NewAuditEntry } from './types';

export const AUDIT_LOG_FILE = 'audit.jsonl';
export const AUDIT_HEAD_FILE = 'audit.head';
export const AUDIT_SEGMENT_DIR = 'audit';
/** Entries per segment before it is closed. */
export const DEFAULT_SEGMENT_ENTRIES = 10_000;

const SEQ_DIGITS = 12;
const TAIL_CHUNK = 16 * 1024;

export interface StoredAuditHead extends AuditHead {
  readonly segmentStart?: number;
}

export interface ClosedSegment {
  readonly file: string;
  readonly first: number;
  readonly last: number;
}

export class AuditSegments {
  readonly activeFile: string;
  readonly headFile: string;
  readonly segmentDir: string;

  constructor(
    readonly dir: string,
    private readonly segmentEntries: number = DEFAULT_SEGMENT_ENTRIES,
    private readonly onNote: (note: string) => void = (note) => process.stderr.write(`${note}\n`),
  ) {
    this.activeFile = path.join(dir, AUDIT_LOG_FILE);
    this.headFile = path.join(dir, AUDIT_HEAD_FILE);
    this.segmentDir = path.join(dir, AUDIT_SEGMENT_DIR);
  }

  async head(): Promise<StoredAuditHead | undefined> {
    return readRecordFile(this.headFile, auditHeadSchema, 'the audit head');
  }

  /**
   * Appends `entries` in order, in constant time per entry whatever the log's length, with one
   * write and one fsync per segment touched; the caller holds the audit lock. An entry that cannot
   * be chained (its detail does not serialize) fails alone: the others are still appended.
   */
  async appendMany(entries: readonly NewAuditEntry[], now: Date, store: string): Promise<Array<AuditEntry | Error>> {
    const head = await this.head();
    const activeTail = (await this.rememberedTail()) ?? (await this.tailOf(this.activeFile, true));
    // An empty active segment continues from the last closed one (also after a crash between
    // closing a segment and writing the head).
    const tail = activeTail ?? (await this.lastClosedTail());
    let previous = await this.previousEntry(head, tail, store);
    let segmentStart = activeTail === undefined ? undefined : (head?.segmentStart ?? (await this.firstSeqOfActive()));
    const results: Array<AuditEntry | Error> = [];
    let lines: string[] = [];
    let last: AuditEntry | undefined;
    for (const entry of entries) {
      let chained: AuditEntry;
      try {
        chained = chainAuditEntry(previous, entry, now);
      } catch (error) {
        results.push(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      segmentStart ??= chained.seq;
      lines.push(`${JSON.stringify(chained)}\n`);
      results.push(chained);
      previous = chained;
      last = chained;
      if (chained.seq - segmentStart + 1 >= this.segmentEntries) {
        await this.writeLines(lines, chained);
        lines = [];
        await this.closeActive(segmentStart, chained.seq);
        segmentStart = undefined;
      }
    }
    if (lines.length > 0) await this.writeLines(lines, last!);
    if (last) {
      // The head may lag the log after a crash (the next append and verification both tolerate
      // that), so it is renamed in atomically but not forced to disk: one fsync per batch.
      const newHead: StoredAuditHead = { seq: last.seq, hash: last.hash, segmentStart: segmentStart ?? last.seq + 1 };
      await writeFileAtomic(this.headFile, `${JSON.stringify(newHead)}\n`, { durable: false, record: newHead });
    }
    return results;
  }

  /** Appends complete lines to the active segment and forces them to disk; `last` is the final one. */
  private async writeLines(lines: readonly string[], last: AuditEntry): Promise<void> {
    const fd = fs.openSync(this.activeFile, 'a');
    let identity: FileIdentity;
    try {
      fs.writeFileSync(fd, lines.join(''), 'utf8');
      await syncDescriptor(fd);
      identity = fs.fstatSync(fd, { bigint: true });
    } finally {
      fs.closeSync(fd);
    }
    lastAppended.set(this.activeFile, { ino: identity.ino, size: identity.size, mtimeNs: identity.mtimeNs, entry: last });
  }

  /**
   * The entry this process appended last, when the active segment is still exactly as that append
   * left it (same inode, size and time): then its last line is that entry and need not be read.
   */
  private async rememberedTail(): Promise<AuditEntry | undefined> {
    const remembered = lastAppended.get(this.activeFile);
    if (!remembered) return undefined;
    let identity: FileIdentity | undefined;
    try {
      identity = fs.statSync(this.activeFile, { bigint: true, throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (identity === undefined) return undefined;
    const same = identity.ino === remembered.ino && identity.size === remembered.size && identity.mtimeNs === remembered.mtimeNs;
    return same ? remembered.entry : undefined;
  }

  /**
   * The entry to chain after, from the head and the active segment's last line, which must agree:
   * the same entry, or a tail past a head that lagged. A crash after a batch reached the disk and
   * before its head was renamed in (or a power cut that lost head renames, which are not forced to
   * disk) leaves the head any number of entries behind; the entries after it are then verified to
   * chain from it, hash by hash, and accepted. Anything else is an edit.
   */
  private async previousEntry(head: StoredAuditHead | undefined, tail: AuditEntry | undefined, store: string): Promise<AuditHead | undefined> {
    if (tail === undefined) return head && head.seq > 0 ? head : undefined;
    if (head === undefined) return tail; // a log written before heads existed
    if (tail.seq === head.seq && tail.hash === head.hash) return head;
    if (tail.seq === head.seq + 1 && tail.prevHash === head.hash) return tail;
    if (tail.seq > head.seq + 1 && (await this.chainsFrom(head, tail))) return tail;
    assertHeadNotAhead(tail.seq, head, store);
    throw new StateError(
      `the audit log of the ${store} ends at entry ${tail.seq} (hash ${tail.hash.slice(0, 12)}…) but its head records entry ${head.seq} (hash ${head.hash.slice(0, 12)}…): the log was edited; nothing was appended`,
      { fault: 'operator', nextStep: 'run `rotate audit verify`, restore the audit log from version control or a backup, then run the command again' },
    );
  }

  /** True when the entries after `head` up to `tail` are all there, well-formed, and chain from `head` to exactly `tail`. */
  private async chainsFrom(head: AuditHead, tail: AuditEntry): Promise<boolean> {
    const entries: AuditEntry[] = [];
    for (const { text } of await this.readLines(head.seq + 1, tail.seq)) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return false;
      }
      const parsed = auditEntrySchema.safeParse(value);
      if (!parsed.success) return false;
      if (parsed.data.seq > head.seq && parsed.data.seq <= tail.seq) entries.push(parsed.data);
    }
    const last = entries[entries.length - 1];
    return last?.seq === tail.seq && last.hash === tail.hash && verifyAuditChain(entries, undefined, head).ok;
  }

  /**
   * The active segment's lines from `fromSeq` on, reading the file backwards from its end; undefined
   * (read it whole instead) unless every line read has its seq where it belongs — consecutive,
   * complete — so an edited or torn tail is always judged by the full read.
   */
  private async activeLinesFrom(fromSeq: number): Promise<Array<{ file: string; line: number; text: string }> | undefined> {
    let fd: number;
    try {
      fd = fs.openSync(this.activeFile, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const size = fs.fstatSync(fd).size;
      for (let chunk = TAIL_CHUNK * 4; ; chunk *= 2) {
        const start = Math.max(0, size - chunk);
        const buffer = Buffer.alloc(size - start);
        fs.readSync(fd, buffer, 0, buffer.length, start);
        const texts = buffer.toString('utf8').split('\n');
        if (texts.pop() !== '') return undefined; // a torn last line
        if (start > 0) texts.shift(); // the partial first line
        const seqs = texts.map(seqOfLine);
        if (seqs.some((q, i) => q === undefined || (i > 0 && q !== seqs[i - 1]! + 1))) return undefined;
        if (start > 0 && (seqs.length === 0 || seqs[0]! > fromSeq)) continue;
        // Line numbers from the seqs: the active segment's first line holds its first seq.
        const segmentStart = start === 0 ? (seqs[0] ?? fromSeq) : ((await this.head())?.segmentStart ?? (await this.firstSeqOfActive()));
        return texts.flatMap((text, i) => (seqs[i]! >= fromSeq ? [{ file: this.activeFile, line: seqs[i]! - segmentStart + 1, text }] : []));
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private async lastClosedTail(): Promise<AuditEntry | undefined> {
    const last = (await this.closedSegments()).pop();
    return last ? this.tailOf(last.file, false) : undefined;
  }

  /** The last complete entry of a segment file, reading only the end of the file. */
  private async tailOf(file: string, cutTornLine: boolean): Promise<AuditEntry | undefined> {
    let fd: number;
    try {
      fd = fs.openSync(file, cutTornLine ? 'r+' : 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size === 0) return undefined;
      let chunk = TAIL_CHUNK;
      for (;;) {
        const start = Math.max(0, size - chunk);
        const buffer = Buffer.alloc(size - start);
        fs.readSync(fd, buffer, 0, buffer.length, start);
        let end = buffer.length;
        if (buffer[end - 1] !== 0x0a) {
          // A torn last line: an append that crashed mid-write never returned, so it never
          // happened. Cut it off rather than chain after garbage.
          const lastNewline = buffer.lastIndexOf(0x0a);
          if (lastNewline < 0 && start > 0) {
            chunk *= 2;
            continue;
          }
          if (!cutTornLine) {
            throw new StateError(`the closed audit segment ${file} does not end with a complete entry`, {
              fault: 'operator',
              nextStep: `run \`rotate audit verify\` and restore ${file} from version control or a backup`,
            });
          }
          fs.ftruncateSync(fd, start + lastNewline + 1);
          this.onNote(`note: removed an incomplete last line from ${file} (an append interrupted by a crash)`);
          if (lastNewline < 0) return undefined;
          end = lastNewline + 1;
        }
        const previousNewline = buffer.lastIndexOf(0x0a, end - 2);
        if (previousNewline < 0 && start > 0) {
          chunk *= 2;
          continue;
        }
        const line = buffer.subarray(previousNewline + 1, end - 1).toString('utf8');
        return parseStoredJson(auditEntrySchema, line, fileSource(file, 'the last audit entry'));
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private async firstSeqOfActive(): Promise<number> {
    const fd = fs.openSync(this.activeFile, 'r');
    try {
      const buffer = Buffer.alloc(TAIL_CHUNK);
      const bytesRead = fs.readSync(fd, buffer, 0, buffer.length, 0);
      const match = /"seq":(\d+)/.exec(buffer.subarray(0, bytesRead).toString('utf8'));
      return match ? Number(match[1]) : 1;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Moves the full active segment into the closed segments (one atomic rename). */
  private async closeActive(first: number, last: number): Promise<void> {
    fs.mkdirSync(this.segmentDir, { recursive: true });
    fs.renameSync(this.activeFile, path.join(this.segmentDir, segmentName(first, last)));
    await syncDirectory(this.segmentDir);
    await syncDirectory(this.dir);
  }

  async closedSegments(): Promise<ClosedSegment[]> {
    let names: string[];
    try {
      names = fs.readdirSync(this.segmentDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .map((name) => ({ name, match: /^(\d+)-(\d+)\.jsonl$/.exec(name) }))
      .filter((n): n is { name: string; match: RegExpExecArray } => n.match !== null)
      .map(({ name, match }) => ({ file: path.join(this.segmentDir, name), first: Number(match[1]), last: Number(match[2]) }))
      .sort((a, b) => a.first - b.first);
  }

  /** Every line of the segment files that may hold seqs in [fromSeq, toSeq], in order, with where each came from. */
  async readLines(fromSeq = 1, toSeq = Number.POSITIVE_INFINITY): Promise<Array<{ file: string; line: number; text: string }>> {
    const files = (await this.closedSegments()).filter((s) => s.last >= fromSeq && s.first <= toSeq).map((s) => s.file);
    // A range near the end (the incremental reads of a process that read the chain before) reads
    // only the active segment's tail, when that tail is well-formed and in order.
    const tail = files.length === 0 && fromSeq > 1 ? await this.activeLinesFrom(fromSeq) : undefined;
    if (tail) return tail;
    files.push(this.activeFile);
    const lines: Array<{ file: string; line: number; text: string }> = [];
    for (const file of files) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const split = text.split('\n');
      if (split[split.length - 1] === '') split.pop();
      split.forEach((t, i) => lines.push({ file, line: i + 1, text: t }));
    }
    return lines;
  }
}

/**
 * The seq of an audit line without parsing it: entries are written as compact JSON whose top-level
 * fields end `"seq":N,"prevHash":"…","hash":"…"}` (chainAuditEntry), so the last `"seq":` is the
 * entry's own (a `seq` inside `detail` comes earlier). Undefined when the shape differs: the line
 * is then parsed and judged like any other.
 */
export function seqOfLine(text: string): number | undefined {
  const at = text.lastIndexOf('"seq":');
  const comma = at < 0 ? -1 : text.indexOf(',', at);
  // `,"prevHash":"<64 hex>","hash":"<64 hex>"}` is exactly 153 characters.
  if (comma < 0 || text.length - comma !== 153 || !text.startsWith(',"prevHash":"', comma)) return undefined;
  const seq = Number(text.slice(at + 6, comma));
  return Number.isSafeInteger(seq) ? seq : undefined;
}

interface FileIdentity {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
}

/** Per active-segment file: the entry this process appended last, and the file's identity right after. */
const lastAppended = new Map<string, FileIdentity & { readonly entry: AuditEntry }>();

export function segmentName(first: number, last: number): string {
  return `${String(first).padStart(SEQ_DIGITS, '0')}-${String(last).padStart(SEQ_DIGITS, '0')}.jsonl`;
}
