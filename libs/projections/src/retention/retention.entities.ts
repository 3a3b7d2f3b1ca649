import { Column, Entity, PrimaryColumn } from 'typeorm';

/** `rm_customer_payments`; see docs/read-models/retention.md. */
@Entity({ name: 'rm_customer_payments' })
export class CustomerPaymentRow {
  @PrimaryColumn({ name: 'event_id', type: 'uuid' }) eventId!: string;
  @Column({ name: 'moment_id', type: 'text' }) momentId!: string;
  @Column({ name: 'customer_id', type: 'text' }) customerId!: string;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ name: 'amount', type: 'numeric', precision: 24, scale: 4 }) amount!: string;
  @Column({ name: 'currency', type: 'text' }) currency!: string;
  @Column({ name: 'position', type: 'bigint' }) position!: string;
}

@Entity({ name: 'rm_customer_tiers' })
export class CustomerTierRow {
  @PrimaryColumn({ name: 'customer_id', type: 'text' }) customerId!: string;
  @Column({ name: 'tier', type: 'text' }) tier!: string;
  @Column({ name: 'changed_at', type: 'timestamptz' }) changedAt!: Date;
  @Column({ name: 'reason', type: 'text' }) reason!: string;
  @Column({ name: 'position', type: 'bigint' }) position!: string;
}

@Entity({ name: 'rm_tier_changes' })
export class TierChangeRow {
  @PrimaryColumn({ name: 'position', type: 'bigint' }) position!: string;
  @Column({ name: 'customer_id', type: 'text' }) customerId!: string;
  @Column({ name: 'from_tier', type: 'text' }) fromTier!: string;
  @Column({ name: 'to_tier', type: 'text' }) toTier!: string;
  @Column({ name: 'reason', type: 'text' }) reason!: string;
  @Column({ name: 'changed_at', type: 'timestamptz' }) changedAt!: Date;
}

@Entity({ name: 'rm_retention_customers' })
export class RetentionCustomerRow {
  @PrimaryColumn({ name: 'customer_id', type: 'text' }) customerId!: string;
  @Column({ name: 'tier', type: 'text' }) tier!: string;
  @Column({ name: 'clock_at', type: 'timestamptz', nullable: true }) clockAt!: Date | null;
  @Column({ name: 'last_contact_at', type: 'timestamptz', nullable: true }) lastContactAt!: Date | null;
  @Column({ name: 'nps_latest', type: 'smallint', nullable: true }) npsLatest!: number | null;
  @Column({ name: 'nps_latest_at', type: 'timestamptz', nullable: true }) npsLatestAt!: Date | null;
  @Column({ name: 'nps_latest_position', type: 'bigint', nullable: true }) npsLatestPosition!: string | null;
  @Column({ name: 'last_phone_moment_id', type: 'text', nullable: true }) lastPhoneMomentId!: string | null;
  @Column({ name: 'last_phone_outcome', type: 'text', nullable: true }) lastPhoneOutcome!: string | null;
  @Column({ name: 'last_phone_at', type: 'timestamptz', nullable: true }) lastPhoneAt!: Date | null;
  @Column({ name: 'last_phone_position', type: 'bigint', nullable: true }) lastPhonePosition!: string | null;
  @Column({ name: 'signal_reasons', type: 'text', array: true }) signalReasons!: string[];
  @Column({ name: 'next_sla_due_at', type: 'timestamptz', nullable: true }) nextSlaDueAt!: Date | null;
  @Column({ name: 'episodes', type: 'integer' }) episodes!: number;
  @Column({ name: 'episode_open', type: 'boolean' }) episodeOpen!: boolean;
  @Column({ name: 'last_position', type: 'bigint' }) lastPosition!: string;
}

@Entity({ name: 'rm_retention_complaints' })
export class RetentionComplaintRow {
  @PrimaryColumn({ name: 'complaint_id', type: 'text' }) complaintId!: string;
  @Column({ name: 'customer_id', type: 'text' }) customerId!: string;
  @Column({ name: 'stage', type: 'text' }) stage!: string;
  @Column({ name: 'severity', type: 'text' }) severity!: string;
  @Column({ name: 'filed_at', type: 'timestamptz' }) filedAt!: Date;
  @Column({ name: 'due_at', type: 'timestamptz', nullable: true }) dueAt!: Date | null;
  @Column({ name: 'last_position', type: 'bigint' }) lastPosition!: string;
}

@Entity({ name: 'rm_retention_episodes' })
export class RetentionEpisodeRow {
  @PrimaryColumn({ name: 'customer_id', type: 'text' }) customerId!: string;
  @PrimaryColumn({ name: 'episode', type: 'integer' }) episode!: number;
  @Column({ name: 'episode_id', type: 'uuid' }) episodeId!: string;
  @Column({ name: 'alert_event_id', type: 'uuid' }) alertEventId!: string;
  @Column({ name: 'opened_by', type: 'text' }) openedBy!: 'event' | 'sla-check';
  @Column({ name: 'tier', type: 'text' }) tier!: string;
  @Column({ name: 'reasons', type: 'text', array: true }) reasons!: string[];
  @Column({ name: 'raised_at', type: 'timestamptz' }) raisedAt!: Date;
  @Column({ name: 'trigger_event_id', type: 'uuid' }) triggerEventId!: string;
  @Column({ name: 'trigger_position', type: 'bigint' }) triggerPosition!: string;
  @Column({ name: 'trigger_correlation_id', type: 'text', nullable: true }) triggerCorrelationId!: string | null;
  @Column({ name: 'alert_position', type: 'bigint', nullable: true }) alertPosition!: string | null;
  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true }) endedAt!: Date | null;
  @Column({ name: 'end_position', type: 'bigint', nullable: true }) endPosition!: string | null;
}

export const customerValueEntities = [CustomerPaymentRow, CustomerTierRow, TierChangeRow];
export const retentionEpisodesEntities = [RetentionCustomerRow, RetentionComplaintRow, RetentionEpisodeRow];
