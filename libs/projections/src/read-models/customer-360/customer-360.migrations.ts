import type { Migration } from '@cx/event-store';

export const customer360Migrations: Migration[] = [
  {
    id: '0410_customer_360',
    sql: `
      -- COLLATE "C": the list pages by customer id, and byte order is the same on every server.
      CREATE TABLE rm_customers (
        customer_id                   text COLLATE "C" PRIMARY KEY,
        name                          text,
        email                         text,
        phone                         text,
        declared_channel              text,
        locale                        text,
        registered_at                 timestamptz,
        profile_updated_at            timestamptz,
        tier                          text        NOT NULL DEFAULT 'C' CHECK (tier IN ('A', 'B', 'C')),
        tier_changed_at               timestamptz,
        preferred_channel             text,
        last_contact_at               timestamptz,
        moments                       integer     NOT NULL DEFAULT 0,
        moments_personal              integer     NOT NULL DEFAULT 0,
        moments_telephone             integer     NOT NULL DEFAULT 0,
        moments_print                 integer     NOT NULL DEFAULT 0,
        moments_electronic            integer     NOT NULL DEFAULT 0,
        nps_answers                   integer     NOT NULL DEFAULT 0,
        nps_latest                    smallint,
        nps_latest_at                 timestamptz,
        nps_trend                     numeric(8,4),
        nps_recent                    jsonb       NOT NULL DEFAULT '[]',
        csat_answers                  integer     NOT NULL DEFAULT 0,
        csat_latest                   smallint,
        csat_latest_at                timestamptz,
        csat_trend                    numeric(8,4),
        csat_recent                   jsonb       NOT NULL DEFAULT '[]',
        ces_answers                   integer     NOT NULL DEFAULT 0,
        ces_latest                    smallint,
        ces_latest_at                 timestamptz,
        ces_trend                     numeric(8,4),
        ces_recent                    jsonb       NOT NULL DEFAULT '[]',
        last_phone_moment_id          text,
        last_phone_outcome            text,
        last_phone_at                 timestamptz,
        last_phone_position           bigint,
        payments                      integer     NOT NULL DEFAULT 0,
        value_amount                  numeric(24,4),
        value_currency                text,
        value_by_currency             jsonb       NOT NULL DEFAULT '{}',
        complaints_filed              integer     NOT NULL DEFAULT 0,
        open_complaints               integer     NOT NULL DEFAULT 0,
        next_sla_due_at               timestamptz,
        at_risk                       boolean     NOT NULL DEFAULT false,
        risk_reasons                  text[]      NOT NULL DEFAULT '{}',
        last_position                 bigint      NOT NULL
      );
      CREATE INDEX rm_customers_tier ON rm_customers (tier, customer_id);
      CREATE INDEX rm_customers_next_sla_due_at ON rm_customers (next_sla_due_at) WHERE next_sla_due_at IS NOT NULL;
      COMMENT ON TABLE rm_customers IS
        'Customer 360 (projection customer360): one row per customer named by any event. Personal data sealed as in the log.';
      COMMENT ON COLUMN rm_customers.at_risk IS
        'Risk from events alone (detractor, negative phone moment) on an A/B customer; the SLA rule is next_sla_due_at < now().';

      CREATE TABLE rm_customer_channels (
        customer_id    text COLLATE "C" NOT NULL,
        channel        text        NOT NULL,
        channel_group  text,
        moments        integer     NOT NULL,
        complaints     integer     NOT NULL,
        last_at        timestamptz NOT NULL,
        last_position  bigint      NOT NULL,
        PRIMARY KEY (customer_id, channel)
      );
      COMMENT ON TABLE rm_customer_channels IS
        'Customer 360: moments and complaints per customer and channel, from which the preferred channel is derived.';

      CREATE TABLE rm_customer_complaints (
        complaint_id   text PRIMARY KEY,
        customer_id    text COLLATE "C" NOT NULL,
        stage          text        NOT NULL CHECK (stage IN ('filed', 'acknowledged', 'routed', 'resolved', 'confirmed')),
        severity       text        NOT NULL,
        category       text        NOT NULL,
        channel        text        NOT NULL,
        area           text,
        filed_at       timestamptz NOT NULL,
        due_at         timestamptz,
        stage_at       timestamptz NOT NULL,
        reopened       integer     NOT NULL DEFAULT 0,
        last_position  bigint      NOT NULL
      );
      CREATE INDEX rm_customer_complaints_customer ON rm_customer_complaints (customer_id);
      COMMENT ON TABLE rm_customer_complaints IS
        'Customer 360: complaints not closed yet; due_at = filed_at + the SLA of the severity.';
    `,
  },
];
