// The catalog's durable log: one JSON object per line, appended with one write. A product change
// and the outbox record of its event travel in the SAME line, which is what makes the outbox
// transactional here: after a crash either both are in the file or neither is.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { OutboxRecord } from '@app/publisher';
import { CatalogStoreError } from './catalog-store.errors';
import type { Product } from './product';

export type JournalEntry =
  /** A change: the product after it and the event announcing it. */
  | { t: 'change'; product: Product; outbox: OutboxRecord }
  /** Snapshot lines written by compaction. */
  | { t: 'product'; product: Product }
  | { t: 'outbox'; record: OutboxRecord }
  /** Relay progress. */
  | { t: 'sent'; ids: string[] }
  | { t: 'failed'; id: string; reason: string };

export interface OpenedJournal {
  journal: CatalogJournal;
  entries: JournalEntry[];
  /** A torn last line (crash mid-append) was cut off. */
  repairedTornTail: boolean;
}

export class CatalogJournal {
  private fd: number;
  private size: number;
  private appends = 0;

  private constructor(
    readonly file: string,
    private readonly fsync: boolean,
  ) {
    this.fd = openSync(file, 'a');
    this.size = fstatSync(this.fd).size;
  }

  static open(file: string, options: { fsync: boolean }): OpenedJournal {
    mkdirSync(dirname(file), { recursive: true });
    const { entries, validBytes, torn } = existsSync(file) ? parse(file) : { entries: [], validBytes: 0, torn: false };
    if (torn) {
      // Later appends must start on a fresh line, not glue onto the torn fragment.
      const fd = openSync(file, 'r+');
      ftruncateSync(fd, validBytes);
      closeSync(fd);
    }
    return { journal: new CatalogJournal(file, options.fsync), entries, repairedTornTail: torn };
  }

  /** Appends since the last rewrite (compaction trigger). */
  get appendsSinceRewrite(): number {
    return this.appends;
  }

  /** One line, one write. On failure the file is cut back, so a half line never precedes later ones. */
  append(entry: JournalEntry): void {
    const bytes = Buffer.from(JSON.stringify(entry) + '\n');
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
      if (this.fsync) fdatasyncSync(this.fd);
    } catch (error) {
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // the torn tail is cut on the next open instead
      }
      throw new CatalogStoreError('JOURNAL_WRITE_FAILED', `could not append to ${this.file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.size += bytes.length;
    this.appends++;
  }

  /** Replaces the file with `entries` (write a temp file, sync it, rename over): a crash leaves the old or the new file, never a mix. */
  rewrite(entries: readonly JournalEntry[]): void {
    const temp = `${this.file}.compact`;
    const fd = openSync(temp, 'w');
    try {
      const text = entries.map((e) => JSON.stringify(e)).join('\n');
      writeSync(fd, text.length > 0 ? text + '\n' : '');
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    closeSync(this.fd);
    this.fd = openSync(this.file, 'a');
    this.size = fstatSync(this.fd).size;
    this.appends = 0;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function parse(file: string): { entries: JournalEntry[]; validBytes: number; torn: boolean } {
  const text = readFileSync(file, 'utf8');
  const lastNewline = text.lastIndexOf('\n');
  const complete = text.slice(0, lastNewline + 1);
  const tail = text.slice(lastNewline + 1);
  const entries: JournalEntry[] = [];
  complete.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      throw new CatalogStoreError(
        'JOURNAL_CORRUPT',
        `${file}:${index + 1} is not valid JSON; the journal is damaged (restore it or move it aside to start empty)`,
      );
    }
  });
  return { entries, validBytes: Buffer.byteLength(complete), torn: tail.length > 0 };
}
