import type pg from 'pg';
import type { EntityManager } from 'typeorm';

/**
 * `COPY … FROM STDIN` of text already in COPY's text format, through the transaction's own pg
 * connection. pg has no COPY of its own; this is the smallest query object its client accepts
 * (the protocol's copy-in: the query, then the data, then the end of it). The text is sent whole:
 * a rebuild's chunks are bounded (BULK_CHUNK_ROWS rows).
 */
class CopyFromText implements pg.Submittable {
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (error: Error) => void };

  constructor(
    private readonly sql: string,
    private readonly text: string,
  ) {
    this.done = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: pg.Connection): void {
    (connection as unknown as { query(text: string): void }).query(this.sql);
  }

  handleCopyInResponse(connection: pg.Connection): void {
    const copy = connection as unknown as { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void };
    copy.sendCopyFromChunk(Buffer.from(this.text, 'utf8'));
    copy.endCopyFrom();
  }

  // The client forgets the query on an error (its ReadyForQuery is not ours to wait for): settle now.
  handleError(error: Error): void {
    this.settle.reject(error);
  }

  handleReadyForQuery(): void {
    this.settle.resolve();
  }

  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
}

/** Runs `sql` (a `COPY … FROM STDIN`) with `text` as its data, in the manager's transaction. */
export async function copyFromText(manager: EntityManager, sql: string, text: string): Promise<void> {
  const runner = manager.queryRunner as unknown as { connect(): Promise<pg.ClientBase> } | undefined;
  if (!runner) throw new Error('COPY needs the connection of a transaction');
  const client = await runner.connect();
  const copy = new CopyFromText(sql, text);
  client.query(copy);
  await copy.done;
}

/** COPY text escapes: the characters that separate fields and rows, and the escape itself. */
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export const escapeCopyText = (text: string): string => (SPECIAL.test(text) ? text.replace(SPECIALS, (c) => ESCAPES[c]) : text);

/** COPY's NULL in its text format. */
export const COPY_NULL = '\\N';
