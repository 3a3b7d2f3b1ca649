import { channelGroup, type FeedbackSubmitted, isChannel, type MomentRecorded } from '@cx/domain';
import type { RecordedEvent } from '@cx/event-store';
import type { EntityManager } from 'typeorm';
import type { BulkFold, BulkWrite, Projection } from '../../projection.js';
import { BULK_CHUNK_ROWS, insertRows, mapped, PendingRows, type RowFormat, rowParams, rowWriter, type RowTable } from '../../rebuild-rows.js';
import { FeedbackFact, MomentFact } from './satisfaction.entities.js';

const MOMENT = 'moment.recorded.v1';
const FEEDBACK = 'feedback.submitted.v1';

type MomentRow = {
  moment_id: string;
  customer_id: string;
  kind: string;
  channel: string;
  channel_group: string | null;
  area: string | null;
  touchpoint: string | null;
  outcome: string | null;
  wait_seconds: number | null;
  expected_wait_seconds: number | null;
  wait_explained: boolean | null;
  occurred_at: string;
  position: string;
};

type FeedbackRow = {
  feedback_id: string;
  customer_id: string;
  moment_id: string | null;
  nps: number | null;
  csat: number | null;
  ces: number | null;
  submitted_at: string;
  position: string;
};

function momentRow(event: RecordedEvent): MomentRow {
  const data = event.data as MomentRecorded['data'];
  return {
    moment_id: data.momentId,
    customer_id: data.customerId,
    kind: data.kind,
    channel: data.channel,
    channel_group: isChannel(data.channel) ? channelGroup(data.channel) : null,
    area: data.area ?? null,
    touchpoint: data.touchpoint ?? null,
    outcome: data.outcome ?? null,
    wait_seconds: data.waitSeconds ?? null,
    expected_wait_seconds: data.expectedWaitSeconds ?? null,
    wait_explained: data.waitExplained ?? null,
    occurred_at: data.occurredAt,
    position: event.position.toString(),
  };
}

function feedbackRow(event: RecordedEvent): FeedbackRow {
  const data = event.data as FeedbackSubmitted['data'];
  return {
    feedback_id: event.id,
    customer_id: data.customerId,
    moment_id: data.momentId ?? null,
    nps: data.nps ?? null,
    csat: data.csat ?? null,
    ces: data.ces ?? null,
    submitted_at: data.submittedAt,
    position: event.position.toString(),
  };
}

type FeedbackFull = FeedbackRow & { kind: string | null; channel: string | null; channel_group: string | null; area: string | null };

/** The rebuild's rows of each table, final when written. */
const MOMENT_ROWS: RowTable = {
  table: 'rm_moments',
  columns: [
    ['moment_id', 'text'],
    ['customer_id', 'text'],
    ['kind', 'text'],
    ['channel', 'text'],
    ['channel_group', 'text'],
    ['area', 'text'],
    ['touchpoint', 'text'],
    ['outcome', 'text'],
    ['wait_seconds', 'double precision'],
    ['expected_wait_seconds', 'double precision'],
    ['wait_explained', 'boolean'],
    ['occurred_at', 'timestamptz'],
    ['position', 'bigint'],
  ],
};

const FEEDBACK_ROWS: RowTable = {
  table: 'rm_feedback',
  columns: [
    ['feedback_id', 'uuid'],
    ['customer_id', 'text'],
    ['moment_id', 'text'],
    ['nps', 'smallint'],
    ['csat', 'smallint'],
    ['ces', 'smallint'],
    ['submitted_at', 'timestamptz'],
    ['kind', 'text'],
    ['channel', 'text'],
    ['channel_group', 'text'],
    ['area', 'text'],
    ['position', 'bigint'],
  ],
};

/** What apply sends of a batch's moments and answers (an answer's moment is looked up by the statement). */
const MOMENT_INPUT = rowParams(MOMENT_ROWS, 'm');
const FEEDBACK_INPUT = rowParams({ table: 'rm_feedback', columns: FEEDBACK_ROWS.columns.filter(([column]) => !['kind', 'channel', 'channel_group', 'area'].includes(column)) });

/*
 * Moments first, then answers: an answer in the same batch as its moment finds it whichever comes
 * first in the log, and answers stored by earlier batches are attributed by the moment's INSERT.
 * A moment id seen again (the same CloudEvents id from another source) keeps the first moment,
 * so attribution never changes once made and a rebuild gives the same rows.
 */
const INSERT_MOMENTS = `
  WITH inserted AS (
    INSERT INTO rm_moments (moment_id, customer_id, kind, channel, channel_group, area, touchpoint, outcome,
                            wait_seconds, expected_wait_seconds, wait_explained, occurred_at, position)
    SELECT m.moment_id, m.customer_id, m.kind, m.channel, m.channel_group, m.area, m.touchpoint, m.outcome,
           m.wait_seconds, m.expected_wait_seconds, m.wait_explained, m.occurred_at, m.position
      FROM ${MOMENT_INPUT.from}
    ON CONFLICT (moment_id) DO NOTHING
    RETURNING moment_id, customer_id, kind, channel, channel_group, area
  ), waiting AS (
    -- Answers stored before their moment. OFFSET 0 keeps this a lookup per new moment on the
    -- moment_id index: joined flat, the planner may scan all of rm_feedback per batch when its
    -- statistics lag behind a fast rebuild.
    SELECT w.feedback_id, i.kind, i.channel, i.channel_group, i.area
      FROM inserted i
     CROSS JOIN LATERAL (
       SELECT f.feedback_id FROM rm_feedback f
        WHERE f.moment_id = i.moment_id AND f.customer_id = i.customer_id AND f.moment_id IS NOT NULL
       OFFSET 0
     ) w
  )
  UPDATE rm_feedback f
     SET kind = w.kind, channel = w.channel, channel_group = w.channel_group, area = w.area
    FROM waiting w
   WHERE f.feedback_id = w.feedback_id`;

const INSERT_FEEDBACK = `
  INSERT INTO rm_feedback (feedback_id, customer_id, moment_id, nps, csat, ces, submitted_at, kind, channel, channel_group, area, position)
  SELECT x.feedback_id, x.customer_id, x.moment_id, x.nps, x.csat, x.ces, x.submitted_at,
         m.kind, m.channel, m.channel_group, m.area, x.position
    FROM ${FEEDBACK_INPUT.from}
    LEFT JOIN rm_moments m ON m.moment_id = x.moment_id AND m.customer_id = x.customer_id`;

/**
 * The rebuild's fold: what an answer needs of its moment is kept in memory (in flat arrays, one
 * slot per moment), so every row is final when written. An answer that comes before its moment
 * waits in memory for it; one whose moment never comes (or is another customer's) is written
 * unattributed at the end, as apply leaves it. The first moment of an id wins, as in apply.
 */
function bulkFold(format: RowFormat): BulkFold {
  const slots = new Map<string, number>();
  const customers: string[] = [];
  const kinds: string[] = [];
  const channels: string[] = [];
  const groups: Array<string | null> = [];
  const areas: Array<string | null> = [];
  const waiting = new Map<string, FeedbackRow[]>();
  let waitingCount = 0;
  const rate = (row: FeedbackRow, slot: number | undefined): FeedbackFull => {
    const known = slot !== undefined && customers[slot] === row.customer_id;
    return {
      feedback_id: row.feedback_id,
      customer_id: row.customer_id,
      moment_id: row.moment_id,
      nps: row.nps,
      csat: row.csat,
      ces: row.ces,
      submitted_at: row.submitted_at,
      kind: known ? kinds[slot] : null,
      channel: known ? channels[slot] : null,
      channel_group: known ? groups[slot] : null,
      area: known ? areas[slot] : null,
      position: row.position,
    };
  };
  // Rows made final, encoded a batch at a time (the rows die young, the text waits for its turn),
  // written BULK_CHUNK_ROWS at a time: a few large statements rather than two small ones (and a
  // transaction) per batch of the log.
  const answerRows = rowWriter(FEEDBACK_ROWS, format);
  const pendingMoments = new PendingRows(rowWriter(MOMENT_ROWS, format));
  const pendingAnswers = new PendingRows(answerRows);
  const flush = (): BulkWrite | undefined => {
    const moments = pendingMoments.take();
    const answers = pendingAnswers.take();
    if (!moments && !answers) return undefined;
    return async (manager) => {
      await moments?.(manager);
      await answers?.(manager);
    };
  };
  return {
    get held() {
      return slots.size + waitingCount + pendingMoments.size + pendingAnswers.size;
    },
    add(events) {
      const moments: MomentRow[] = [];
      const answers: FeedbackFull[] = [];
      for (const event of events) {
        if (event.type === MOMENT) {
          const row = momentRow(event);
          if (slots.has(row.moment_id)) continue;
          const slot = customers.length;
          slots.set(row.moment_id, slot);
          customers.push(row.customer_id);
          kinds.push(row.kind);
          channels.push(row.channel);
          groups.push(row.channel_group);
          areas.push(row.area);
          moments.push(row);
          const early = waiting.get(row.moment_id);
          if (early) {
            // The moment id is taken now: every answer waiting for it is settled, rated or not.
            waiting.delete(row.moment_id);
            waitingCount -= early.length;
            for (const answer of early) answers.push(rate(answer, slot));
          }
        } else if (event.type === FEEDBACK) {
          const row = feedbackRow(event);
          const slot = row.moment_id === null ? undefined : slots.get(row.moment_id);
          if (row.moment_id !== null && slot === undefined) {
            const list = waiting.get(row.moment_id);
            if (list) list.push(row);
            else waiting.set(row.moment_id, [row]);
            waitingCount += 1;
          } else {
            answers.push(rate(row, slot));
          }
        }
      }
      pendingMoments.add(moments);
      pendingAnswers.add(answers);
      return pendingMoments.size + pendingAnswers.size >= BULK_CHUNK_ROWS ? flush() : undefined;
    },
    *finish() {
      const rest = flush();
      if (rest) yield rest;
      yield* insertRows(answerRows, mapped([...waiting.values()].flat(), (row) => rate(row, undefined)));
      waiting.clear();
      waitingCount = 0;
    },
  };
}

export const satisfactionProjection: Projection = {
  name: 'satisfaction',
  version: 1,
  handles: [MOMENT, FEEDBACK],
  tables: ['rm_moments', 'rm_feedback'],
  migrations: [
    {
      id: '0420_satisfaction_facts',
      sql: `
        CREATE TABLE rm_moments (
          moment_id              text PRIMARY KEY,
          customer_id            text             NOT NULL,
          kind                   text             NOT NULL,
          channel                text             NOT NULL,
          channel_group          text,
          area                   text,
          touchpoint             text,
          outcome                text,
          wait_seconds           double precision,
          expected_wait_seconds  double precision,
          wait_explained         boolean,
          occurred_at            timestamptz      NOT NULL,
          position               bigint           NOT NULL
        );
        CREATE INDEX rm_moments_occurred_at ON rm_moments (occurred_at);
        COMMENT ON TABLE rm_moments IS
          'Satisfaction read model: one row per moment of truth (moment.recorded.v1), keyed by its CloudEvents id.';

        CREATE TABLE rm_feedback (
          feedback_id    uuid PRIMARY KEY,
          customer_id    text        NOT NULL,
          moment_id      text,
          nps            smallint,
          csat           smallint,
          ces            smallint,
          submitted_at   timestamptz NOT NULL,
          kind           text,
          channel        text,
          channel_group  text,
          area           text,
          position       bigint      NOT NULL
        );
        CREATE INDEX rm_feedback_submitted_at ON rm_feedback (submitted_at);
        CREATE INDEX rm_feedback_moment ON rm_feedback (moment_id) WHERE moment_id IS NOT NULL;
        COMMENT ON TABLE rm_feedback IS
          'Satisfaction read model: one row per survey answer (feedback.submitted.v1), with the kind, channel and area of the moment it rates.';
      `,
    },
  ],
  entities: [MomentFact, FeedbackFact],

  async apply(events: readonly RecordedEvent[], manager: EntityManager): Promise<void> {
    const moments: MomentRow[] = [];
    const feedback: FeedbackRow[] = [];
    const seen = new Set<string>();
    for (const event of events) {
      if (event.type === MOMENT) {
        const row = momentRow(event);
        if (seen.has(row.moment_id)) continue;
        seen.add(row.moment_id);
        moments.push(row);
      } else if (event.type === FEEDBACK) {
        feedback.push(feedbackRow(event));
      }
    }
    if (moments.length > 0) await manager.query(INSERT_MOMENTS, MOMENT_INPUT.params(moments));
    if (feedback.length > 0) await manager.query(INSERT_FEEDBACK, FEEDBACK_INPUT.params(feedback));
  },

  bulk: bulkFold,
};
