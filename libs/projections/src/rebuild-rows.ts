import type { FoldChanges } from '@cx/domain';
import type { BulkWrite } from './projection.js';
import { COPY_NULL, copyFromText, escapeCopyText } from './rebuild-copy.js';
import { ident } from './rebuild-schema.js';

/** Rows per statement when a bulk fold writes what it held: one JSON parameter (or COPY) each, of bounded size. */
export const BULK_CHUNK_ROWS = 5_000;

/**
 * How a rebuild's bulk folds send rows to the server: `copy` (COPY … FROM STDIN in its text
 * format: the server parses about half as much as for the JSON, measured 0.3-0.45 s against
 * 0.9 s for 215,000 journey rows) or `json` (one JSON array per statement through
 * json_to_recordset: embedded PGlite, whose socket cannot carry COPY FROM STDIN).
 */
export type RowFormat = 'copy' | 'json';

/** A table's columns as a bulk fold fills them: SQL name, SQL type, and the row property that carries it (the name when left out). */
export type RowColumns = readonly (readonly [column: string, type: string, property?: string])[];
export type RowTable = { readonly table: string; readonly columns: RowColumns };

/**
 * Rows of one table in a format: `encode` turns rows into text at once (so the row objects die
 * young and only the text waits for its turn), `write` sends encoded chunks as one statement.
 * Both formats give the same row values: JSON's null and undefined are NULL, and so is a number
 * that is not finite (JSON.stringify makes it null); text arrays as json_to_recordset makes them.
 */
export type RowWriter = {
  encode(rows: readonly object[]): string;
  write(chunks: readonly string[]): BulkWrite;
};

type Encode = (value: unknown) => string;
const encodeScalar: Encode = (value) => {
  if (value === null || value === undefined) return COPY_NULL;
  if (typeof value === 'string') return escapeCopyText(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : COPY_NULL;
  if (typeof value === 'object') return escapeCopyText(JSON.stringify(value));
  return String(value);
};
const encodeJson: Encode = (value) => (value === null || value === undefined ? COPY_NULL : escapeCopyText(JSON.stringify(value)));

/**
 * One element of an array literal, quoted (so `NULL`, braces, commas and blanks are plain text),
 * `"` and `\` escaped: what node-postgres sends for an element of a JS array, but made here in
 * one pass, and not at all for text that needs no escaping (most of it: ids, times, channels).
 */
const NEEDS_ESCAPE = /["\\]/;
const quoted = (text: string): string => (NEEDS_ESCAPE.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : `"${text}"`);
const arrayElement = (value: unknown) => (value === null || value === undefined ? 'NULL' : quoted(String(value)));
const encodeArray: Encode = (value) => {
  if (value === null || value === undefined) return COPY_NULL;
  if (!Array.isArray(value)) throw new TypeError(`an array column was given ${JSON.stringify(value)}`);
  return escapeCopyText(`{${value.map(arrayElement).join(',')}}`);
};
const encoderOf = (type: string): Encode => (type === 'json' || type === 'jsonb' ? encodeJson : type.endsWith('[]') ? encodeArray : encodeScalar);

/** JSON arrays (as text) joined into one, without parsing them again; undefined for none. */
export function joinedJson(parts: readonly string[]): string | undefined {
  if (parts.length <= 1) return parts[0];
  return `[${parts.map((part) => part.slice(1, -1)).join(',')}]`;
}

const columnsOf = (table: RowTable) => table.columns.map(([column, type, property]) => ({ column, type, property: property ?? column }));

/** The INSERT of rows given as one JSON array (`$1`), each row's properties named as in `table`: the `json` format of a rebuild. */
function jsonInsertSql(table: RowTable): string {
  const columns = columnsOf(table);
  return `INSERT INTO ${ident(table.table)} (${columns.map((c) => c.column).join(', ')})
    SELECT ${columns.map((c) => `x.${ident(c.property)}`).join(', ')}
      FROM json_to_recordset($1::json) AS x(${columns.map((c) => `${ident(c.property)} ${c.type}`).join(', ')})`;
}

/**
 * Rows of a table as a statement reads them in apply: one array parameter per column
 * (`$first`, `$first+1`, …) turned back into rows by `unnest`, so `from` is a FROM item whose
 * columns are the rows' properties, typed as the table's columns. The server parses plain arrays
 * instead of one JSON document: measured on 1,000 customer 360 rows (46 columns), 8 ms of server
 * CPU against 22-37 ms through jsonb_to_recordset and 50 ms through json_to_recordset, for the
 * same client CPU. Values as in JSON: null and undefined are NULL, and so is a number that is
 * not finite; json and jsonb columns take the JSON of the value; array columns an array of text.
 */
export type RowParams = {
  /** `(SELECT … FROM unnest(…)) AS alias`. */
  readonly from: string;
  /** The parameters for `from`, in order: one array literal per column (`{…}`, as text). */
  params(rows: readonly object[]): unknown[];
};

const isJson = (type: string) => type === 'json' || type === 'jsonb';

/** An element of a column's array literal: null and undefined are NULL, and so is a number that is not finite. */
type Element = (value: unknown) => string;
const scalarElement: Element = (value) => {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'string':
      return quoted(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'NULL';
    case 'bigint':
      return String(value);
    case 'boolean':
      return value ? 't' : 'f';
    default:
      return value instanceof Date ? quoted(value.toISOString()) : quoted(JSON.stringify(value));
  }
};
const jsonElement: Element = (value) => (value === null || value === undefined ? 'NULL' : quoted(JSON.stringify(value)));
const arrayColumnElement: Element = (value) => {
  if (value === null || value === undefined) return 'NULL';
  if (!Array.isArray(value)) throw new TypeError(`an array column was given ${JSON.stringify(value)}`);
  return quoted(`{${value.map(arrayElement).join(',')}}`);
};
const elementOf = (type: string): Element => (isJson(type) ? jsonElement : type.endsWith('[]') ? arrayColumnElement : scalarElement);

export function rowParams(table: RowTable, alias = 'x', first = 1): RowParams {
  const columns = columnsOf(table).map((c) => ({ ...c, element: elementOf(c.type) }));
  // json, jsonb and arrays travel as text (an array of arrays would have to be rectangular).
  const travels = (type: string) => (isJson(type) || type.endsWith('[]') ? 'text' : type);
  const arrays = columns.map((c, i) => `$${first + i}::${travels(c.type)}[]`).join(', ');
  const names = columns.map((_, i) => `c${i}`);
  const select = columns.map((c, i) => (travels(c.type) === c.type ? names[i] : `${names[i]}::${c.type}`) + ` AS ${ident(c.property)}`).join(', ');
  return {
    from: `(SELECT ${select} FROM unnest(${arrays}) AS u(${names.join(', ')})) AS ${alias}`,
    // Each column's array literal made here, as text: the driver sends a string as it is.
    params: (rows) =>
      columns.map((c) => {
        let literal = '{';
        for (let i = 0; i < rows.length; i++) {
          if (i > 0) literal += ',';
          literal += c.element((rows[i] as Record<string, unknown>)[c.property]);
        }
        return `${literal}}`;
      }),
  };
}

/** A statement over rows sent as rowParams: its SQL, and its parameters for given rows. */
export type RowStatement = { readonly sql: string; params(rows: readonly object[]): unknown[] };

/**
 * The INSERT of rows through rowParams, each row's properties named as in `table`; with `key`,
 * an upsert: a row whose key is stored replaces every other column (`update`: only those).
 * `conflict: 'nothing'` keeps the stored row instead.
 */
export function rowsInsert(
  table: RowTable,
  options: { key?: readonly string[]; conflict?: 'update' | 'nothing'; update?: readonly string[] } = {},
): RowStatement {
  const columns = columnsOf(table);
  const rows = rowParams(table);
  let sql = `INSERT INTO ${ident(table.table)} (${columns.map((c) => c.column).join(', ')})
    SELECT ${columns.map((c) => `x.${ident(c.property)}`).join(', ')} FROM ${rows.from}`;
  if (options.key) {
    const key = options.key;
    const update = options.update ?? columns.map((c) => c.column).filter((column) => !key.includes(column));
    sql +=
      options.conflict === 'nothing'
        ? ` ON CONFLICT (${key.join(', ')}) DO NOTHING`
        : ` ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${update.map((column) => `${column} = excluded.${column}`).join(', ')}`;
  }
  return { sql, params: rows.params };
}

export function rowWriter(table: RowTable, format: RowFormat): RowWriter {
  const columns = columnsOf(table);
  if (format === 'json') {
    const sql = jsonInsertSql(table);
    return {
      encode: (rows) => JSON.stringify(rows),
      write(chunks) {
        const json = joinedJson(chunks);
        return async (manager) => {
          if (json !== undefined) await manager.query(sql, [json]);
        };
      },
    };
  }
  const sql = `COPY ${ident(table.table)} (${columns.map((c) => c.column).join(', ')}) FROM STDIN`;
  const fields = columns.map((c) => ({ property: c.property, encode: encoderOf(c.type) }));
  return {
    encode(rows) {
      let text = '';
      for (const row of rows) {
        const values = row as Record<string, unknown>;
        for (let i = 0; i < fields.length; i++) text += (i === 0 ? '' : '\t') + fields[i].encode(values[fields[i].property]);
        text += '\n';
      }
      return text;
    },
    write(chunks) {
      const text = chunks.join('');
      return async (manager) => {
        if (text !== '') await copyFromText(manager, sql, text);
      };
    },
  };
}

/**
 * Rows a fold makes final batch by batch, encoded as they come and written BULK_CHUNK_ROWS at a
 * time: a few large statements rather than one per batch of the log.
 */
export class PendingRows {
  private chunks: string[] = [];
  private count = 0;

  constructor(private readonly writer: RowWriter) {}

  get size(): number {
    return this.count;
  }

  add(rows: readonly object[]): void {
    if (rows.length === 0) return;
    this.chunks.push(this.writer.encode(rows));
    this.count += rows.length;
  }

  /** The write of what is pending (undefined when nothing is), which is then no longer pending. */
  take(): BulkWrite | undefined {
    if (this.count === 0) return undefined;
    const write = this.writer.write(this.chunks);
    this.chunks = [];
    this.count = 0;
    return write;
  }
}

/** `items` in arrays of `size` (the last one shorter), lazily. */
function* chunked<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let chunk: T[] = [];
  for (const item of items) {
    chunk.push(item);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** The writes of `rows` (encoded as they are taken, so a chunk at a time is in memory), a chunk each. */
export function* insertRows(writer: RowWriter, rows: Iterable<object>, chunk = BULK_CHUNK_ROWS): Generator<BulkWrite> {
  for (const batch of chunked(rows, chunk)) yield writer.write([writer.encode(batch)]);
}

/** The writes of `rows` through a statement of rowParams (an UPDATE, say: what is not a plain insert), a chunk each. */
export function* rowStatements(statement: RowStatement, rows: Iterable<object>, chunk = BULK_CHUNK_ROWS): Generator<BulkWrite> {
  for (const batch of chunked(rows, chunk)) {
    const params = statement.params(batch);
    yield async (manager) => void (await manager.query(statement.sql, params));
  }
}

const marked = new WeakSet<BulkWrite>();

/**
 * `writes` marked as free to run at the same time as the projection's other marked writes next to
 * them (plain INSERTs of rows no other write of the fold touches, into tables without keys): the
 * rebuild spreads them over connections. A write not marked still waits for every write before
 * it, and the marked ones after it wait for it.
 */
export function* sideBySide(writes: Iterable<BulkWrite>): Generator<BulkWrite> {
  for (const write of writes) yield markedSideBySide(write);
}

export function markedSideBySide(write: BulkWrite): BulkWrite {
  marked.add(write);
  return write;
}

export const isSideBySide = (write: BulkWrite): boolean => marked.has(write);

/** `items` mapped, lazily. */
export function* mapped<T, R>(items: Iterable<T>, map: (item: T) => R): Generator<R> {
  for (const item of items) yield map(item);
}

/** `items` mapped to several each, flattened, lazily. */
export function* flatMapped<T, R>(items: Iterable<T>, map: (item: T) => Iterable<R>): Generator<R> {
  for (const item of items) yield* map(item);
}

class DiscardingMap<K, V> extends Map<K, V> {
  override set(): this {
    return this;
  }
}

class DiscardingSet<T> extends Set<T> {
  override add(): this {
    return this;
  }
}

/**
 * What the customer 360 fold reports as changed, thrown away: apply writes the rows it names, a
 * bulk fold writes every state at the end and needs none of it. The fold only ever writes to it
 * (a fold that read it back would be caught by the rebuild-equals-live test).
 */
export const discardedChanges = (): FoldChanges => ({ channels: new DiscardingMap(), complaints: new DiscardingMap(), closedComplaints: new DiscardingSet() });
