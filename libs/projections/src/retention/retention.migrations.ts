import type { Migration } from '@cx/event-store';

export const customerValueMigrations: Migration[] = [
  {
    id: '0450_customer_value',
    sql: `
      CREATE TABLE rm_customer_payments (
        event_id     uuid          PRIMARY KEY,
        moment_id    text          NOT NULL,
        customer_id  text          NOT NULL,
        occurred_at  timestamptz   NOT NULL,
        amount       numeric(24,4) NOT NULL,
        currency     text          NOT NULL,
        position     bigint        NOT NULL
      );
      -- The tier job sums one currency over a window of dates.
      CREATE INDEX rm_customer_payments_window ON rm_customer_payments (currency, occurred_at) INCLUDE (customer_id, amount);
      CREATE INDEX rm_customer_payments_customer ON rm_customer_payments (customer_id);
      COMMENT ON TABLE rm_customer_payments IS 'Every payment moment with an amount: the value the ABC tiers are cut from.';

      CREATE TABLE rm_customer_tiers (
        customer_id  text        PRIMARY KEY,
        tier         text        NOT NULL CHECK (tier IN ('A', 'B', 'C')),
        changed_at   timestamptz NOT NULL,
        reason       text        NOT NULL,
        position     bigint      NOT NULL
      );
      CREATE INDEX rm_customer_tiers_watched ON rm_customer_tiers (tier) WHERE tier <> 'C';
      COMMENT ON TABLE rm_customer_tiers IS 'Each customer''s current tier, from its last customer.tier-changed.v1 (no row: C).';

      CREATE TABLE rm_tier_changes (
        position     bigint      PRIMARY KEY,
        customer_id  text        NOT NULL,
        from_tier    text        NOT NULL,
        to_tier      text        NOT NULL,
        reason       text        NOT NULL,
        changed_at   timestamptz NOT NULL
      );
      CREATE INDEX rm_tier_changes_changed_at ON rm_tier_changes (changed_at);
      COMMENT ON TABLE rm_tier_changes IS 'Movements in the ABC pyramid, one row per customer.tier-changed.v1.';
    `,
  },
];

export const retentionEpisodesMigrations: Migration[] = [
  {
    id: '0451_retention_episodes',
    sql: `
      CREATE TABLE rm_retention_customers (
        customer_id           text        PRIMARY KEY,
        tier                  text        NOT NULL DEFAULT 'C' CHECK (tier IN ('A', 'B', 'C')),
        clock_at              timestamptz,
        last_contact_at       timestamptz,
        nps_latest            smallint,
        nps_latest_at         timestamptz,
        nps_latest_position   bigint,
        last_phone_moment_id  text,
        last_phone_outcome    text,
        last_phone_at         timestamptz,
        last_phone_position   bigint,
        signal_reasons        text[]      NOT NULL DEFAULT '{}',
        next_sla_due_at       timestamptz,
        episodes              integer     NOT NULL DEFAULT 0,
        episode_open          boolean     NOT NULL DEFAULT false,
        last_position         bigint      NOT NULL
      );
      -- The SLA check: watched customers outside an episode whose earliest unresolved complaint is due.
      CREATE INDEX rm_retention_customers_sla ON rm_retention_customers (next_sla_due_at)
        WHERE NOT episode_open AND tier IN ('A', 'B') AND next_sla_due_at IS NOT NULL;
      COMMENT ON TABLE rm_retention_customers IS 'Per customer: what the at-risk rules read, and the state of its risk episodes.';

      CREATE TABLE rm_retention_complaints (
        complaint_id   text        PRIMARY KEY,
        customer_id    text        NOT NULL,
        stage          text        NOT NULL,
        severity       text        NOT NULL,
        filed_at       timestamptz NOT NULL,
        due_at         timestamptz,
        last_position  bigint      NOT NULL
      );
      CREATE INDEX rm_retention_complaints_customer ON rm_retention_complaints (customer_id);
      COMMENT ON TABLE rm_retention_complaints IS 'Complaints filed and not closed, with the due time of their SLA.';

      CREATE TABLE rm_retention_episodes (
        customer_id             text        NOT NULL,
        episode                 integer     NOT NULL,
        episode_id              uuid        NOT NULL,
        alert_event_id          uuid        NOT NULL,
        opened_by               text        NOT NULL CHECK (opened_by IN ('event', 'sla-check')),
        tier                    text        NOT NULL,
        reasons                 text[]      NOT NULL,
        raised_at               timestamptz NOT NULL,
        trigger_event_id        uuid        NOT NULL,
        trigger_position        bigint      NOT NULL,
        trigger_correlation_id  text,
        alert_position          bigint,
        ended_at                timestamptz,
        end_position            bigint,
        PRIMARY KEY (customer_id, episode)
      );
      -- The outbox: episodes whose alert is not in the log yet.
      CREATE INDEX rm_retention_episodes_outbox ON rm_retention_episodes (raised_at, customer_id, episode) WHERE alert_position IS NULL;
      CREATE INDEX rm_retention_episodes_raised_at ON rm_retention_episodes (raised_at);
      COMMENT ON TABLE rm_retention_episodes IS 'Risk episodes of A and B customers, one alert each; also the saga''s outbox.';
    `,
  },
];
