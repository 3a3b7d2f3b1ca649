import { openTestDatabase, type TestDatabase, testBackend } from '@cx/testing';
import { insertRows, PendingRows, type RowFormat, rowsInsert, rowWriter, type RowTable } from './rebuild-rows.js';

/** Values that COPY's text format must escape or map, and JSON must not lose. */
const rows = [
  { id: 1, label: 'tab\there, newline\nthere, return\r, backslash \\ and \\N', n: 2.5, flag: true, doc: { a: 'x\ty\\"', b: [1, null] }, tags: ['a', 'b"c', 'd\\e', 'f,g', 'NULL', ''], at: '2026-03-01T10:00:00.123Z', big: '9007199254740993' },
  { id: 2, label: null, n: Number.NaN, flag: false, doc: null, tags: [], at: null, big: null },
  { id: 3, n: Number.POSITIVE_INFINITY, flag: null, doc: [], tags: null, at: '2026-03-01T10:00:00+02:00', big: '-1' },
  { id: 4, label: 'été ✓ 𝄞', n: 0.1, flag: true, doc: 'a string', tags: ['été'], at: '2026-03-01T10:00:00Z', big: '0' },
  // What an array literal must quote or escape: the word NULL, braces, commas, quotes, blanks, empty text.
  { id: 6, label: 'NULL', n: -3, flag: false, doc: { q: '"{a,b}"' }, tags: ['{x}', ' y '], at: '2026-03-01T10:00:00.5Z', big: 12 },
  { id: 7, label: '{"a", b\\}', n: 1e21, doc: ['"', '\\'], tags: [null, 'NULL'], big: '-9007199254740993' },
  { id: 8, label: '', n: 0, flag: true, doc: '', tags: [''], at: '2026-03-01T10:00:00.25+00:00' },
];

const table = (name: string): RowTable => ({
  table: name,
  columns: [
    ['id', 'integer'],
    ['label', 'text'],
    ['n', 'double precision', 'n'],
    ['flag', 'boolean'],
    ['doc', 'jsonb'],
    ['tags', 'text[]'],
    ['at', 'timestamptz'],
    ['big', 'bigint'],
  ],
});

describe(`a rebuild's bulk rows on ${testBackend}`, () => {
  let database: TestDatabase;
  // COPY FROM STDIN only where the server takes it: embedded PGlite does not (rebuild.ts: takesCopy).
  const formats: RowFormat[] = testBackend === 'postgres' ? ['json', 'copy'] : ['json'];

  beforeAll(async () => {
    database = await openTestDatabase();
    for (const format of [...formats, 'columns']) {
      await database.pool.query(
        `CREATE TABLE spec_rows_${format} (id integer PRIMARY KEY, label text, n double precision, flag boolean, doc jsonb, tags text[], at timestamptz, big bigint)`,
      );
    }
  });
  afterAll(async () => {
    await database.close();
  });

  const written = async (format: RowFormat | 'columns') =>
    (await database.pool.query(`SELECT id, label, n::text AS n, flag, doc, tags, at, big FROM spec_rows_${format} ORDER BY id`)).rows;

  it.each(formats)('writes every row value as given (%s), in chunks and from pending rows alike', async (format) => {
    const writer = rowWriter(table(`spec_rows_${format}`), format);
    const pending = new PendingRows(writer);
    pending.add(rows.slice(0, 1));
    pending.add(rows.slice(1, 2));
    expect(pending.size).toBe(2);
    await database.dataSource.transaction(async (m) => {
      await pending.take()!(m);
      for (const write of insertRows(writer, rows.slice(2), 1)) await write(m);
    });
    expect(pending.take()).toBeUndefined();
    const stored = await written(format);
    expect(stored.map((r) => r.id)).toEqual([1, 2, 3, 4, 6, 7, 8]);
    expect(stored[0]).toMatchObject({ label: rows[0].label, n: '2.5', flag: true, doc: rows[0].doc, tags: rows[0].tags, big: '9007199254740993' });
    expect(stored[0].at.toISOString()).toBe('2026-03-01T10:00:00.123Z');
    // Not finite: null, as JSON.stringify makes it.
    expect(stored[1]).toMatchObject({ label: null, n: null, flag: false, doc: null, tags: [], at: null, big: null });
    expect(stored[2]).toMatchObject({ label: null, n: null, flag: null, doc: [], tags: null, big: '-1' });
    expect(stored[2].at.toISOString()).toBe('2026-03-01T08:00:00.000Z');
    expect(stored[3]).toMatchObject({ label: 'été ✓ 𝄞', n: '0.1', doc: 'a string', tags: ['été'] });
    expect(stored[4]).toMatchObject({ label: 'NULL', n: '-3', flag: false, doc: { q: '"{a,b}"' }, tags: ['{x}', ' y '], big: '12' });
    expect(stored[4].at.toISOString()).toBe('2026-03-01T10:00:00.500Z');
    expect(stored[5]).toMatchObject({ label: '{"a", b\\}', n: '1e+21', flag: null, doc: ['"', '\\'], tags: [null, 'NULL'], at: null, big: '-9007199254740993' });
    expect(stored[6]).toMatchObject({ label: '', n: '0', flag: true, doc: '', tags: [''], big: null });
    expect(stored[6].at.toISOString()).toBe('2026-03-01T10:00:00.250Z');
  });

  it.each(formats)('fails the write, not the connection, on a value the column cannot take (%s)', async (format) => {
    const writer = rowWriter(table(`spec_rows_${format}`), format);
    await expect(database.dataSource.transaction((m) => writer.write([writer.encode([{ id: 'not a number' }])])(m))).rejects.toThrow(/integer/);
    expect((await database.pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  if (testBackend === 'postgres') {
    it('gives the same rows through COPY as through JSON', async () => {
      expect(await written('copy')).toEqual(await written('json'));
    });
  }

  it('gives the same rows through the column arrays of apply as through a bulk write, and upserts by key', async () => {
    const insert = rowsInsert(table('spec_rows_columns'), { key: ['id'] });
    await database.dataSource.transaction(async (m) => {
      await m.query(insert.sql, insert.params(rows.slice(0, 2)));
      await m.query(insert.sql, insert.params(rows.slice(2)));
    });
    expect(await written('columns')).toEqual(await written('json'));

    // Every column but the key replaced; with `nothing`, the stored row kept; with `update`, only those columns.
    await database.pool.query(insert.sql, insert.params([{ id: 1, label: 'again', tags: ['x'] }]));
    const keep = rowsInsert(table('spec_rows_columns'), { key: ['id'], conflict: 'nothing' });
    await database.pool.query(keep.sql, keep.params([{ id: 2, label: 'ignored' }, { id: 5, label: 'new' }]));
    const some = rowsInsert(table('spec_rows_columns'), { key: ['id'], update: ['flag'] });
    await database.pool.query(some.sql, some.params([{ id: 4, label: 'not this', flag: false }]));
    const stored = await written('columns');
    expect(stored.map((r) => [r.id, r.label, r.flag, r.tags])).toEqual([
      [1, 'again', null, ['x']],
      [2, null, false, []],
      [3, null, null, null],
      [4, 'été ✓ 𝄞', false, ['été']],
      [5, 'new', null, null],
      [6, 'NULL', false, ['{x}', ' y ']],
      [7, '{"a", b\\}', null, [null, 'NULL']],
      [8, '', true, ['']],
    ]);
  });

  it('takes a bigint and a Date in the column arrays of apply as the driver would', async () => {
    const insert = rowsInsert(table('spec_rows_columns'), { key: ['id'] });
    await database.pool.query(insert.sql, insert.params([{ id: 10, big: 9007199254740993n, at: new Date('2026-03-01T10:00:00.250Z'), doc: { at: 1 } }]));
    const [row] = (await database.pool.query('SELECT big::text AS big, at, doc FROM spec_rows_columns WHERE id = 10')).rows;
    expect(row).toEqual({ big: '9007199254740993', at: new Date('2026-03-01T10:00:00.250Z'), doc: { at: 1 } });
  });

  it('fails the statement, not the connection, on a value a column cannot take (column arrays)', async () => {
    const insert = rowsInsert(table('spec_rows_columns'));
    await expect(database.pool.query(insert.sql, insert.params([{ id: 9, big: 'not a number' }]))).rejects.toThrow(/bigint/);
    expect(() => insert.params([{ id: 9, tags: 'not an array' }])).toThrow(TypeError);
    expect((await database.pool.query('SELECT count(*)::int AS n FROM spec_rows_columns WHERE id = 9')).rows).toEqual([{ n: 0 }]);
  });
});
