import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A stored answer in `*_recent`: oldest first, `at` in ISO 8601, `position` as digits. */
export type StoredAnswer = { score: number; at: string; position: string };

/** `rm_customers`: one row per customer; see docs/read-models.md. */
@Entity({ name: 'rm_customers' })
export class Customer360Row {
  @PrimaryColumn({ name: 'customer_id', type: 'text' }) customerId!: string;
  @Column({ name: 'name', type: 'text', nullable: true }) name!: string | null;
  @Column({ name: 'email', type: 'text', nullable: true }) email!: string | null;
  @Column({ name: 'phone', type: 'text', nullable: true }) phone!: string | null;
  @Column({ name: 'declared_channel', type: 'text', nullable: true }) declaredChannel!: string | null;
  @Column({ name: 'locale', type: 'text', nullable: true }) locale!: string | null;
  @Column({ name: 'registered_at', type: 'timestamptz', nullable: true }) registeredAt!: Date | null;
  @Column({ name: 'profile_updated_at', type: 'timestamptz', nullable: true }) profileUpdatedAt!: Date | null;
  @Column({ name: 'tier', type: 'text' }) tier!: string;
  @Column({ name: 'tier_changed_at', type: 'timestamptz', nullable: true }) tierChangedAt!: Date | null;
  @Column({ name: 'preferred_channel', type: 'text', nullable: true }) preferredChannel!: string | null;
  @Column({ name: 'last_contact_at', type: 'timestamptz', nullable: true }) lastContactAt!: Date | null;
  @Column({ name: 'moments', type: 'integer' }) moments!: number;
  @Column({ name: 'moments_personal', type: 'integer' }) momentsPersonal!: number;
  @Column({ name: 'moments_telephone', type: 'integer' }) momentsTelephone!: number;
  @Column({ name: 'moments_print', type: 'integer' }) momentsPrint!: number;
  @Column({ name: 'moments_electronic', type: 'integer' }) momentsElectronic!: number;
  @Column({ name: 'nps_answers', type: 'integer' }) npsAnswers!: number;
  @Column({ name: 'nps_latest', type: 'smallint', nullable: true }) npsLatest!: number | null;
  @Column({ name: 'nps_latest_at', type: 'timestamptz', nullable: true }) npsLatestAt!: Date | null;
  @Column({ name: 'nps_trend', type: 'numeric', precision: 8, scale: 4, nullable: true }) npsTrend!: string | null;
  @Column({ name: 'nps_recent', type: 'jsonb' }) npsRecent!: StoredAnswer[];
  @Column({ name: 'csat_answers', type: 'integer' }) csatAnswers!: number;
  @Column({ name: 'csat_latest', type: 'smallint', nullable: true }) csatLatest!: number | null;
  @Column({ name: 'csat_latest_at', type: 'timestamptz', nullable: true }) csatLatestAt!: Date | null;
  @Column({ name: 'csat_trend', type: 'numeric', precision: 8, scale: 4, nullable: true }) csatTrend!: string | null;
  @Column({ name: 'csat_recent', type: 'jsonb' }) csatRecent!: StoredAnswer[];
  @Column({ name: 'ces_answers', type: 'integer' }) cesAnswers!: number;
  @Column({ name: 'ces_latest', type: 'smallint', nullable: true }) cesLatest!: number | null;
  @Column({ name: 'ces_latest_at', type: 'timestamptz', nullable: true }) cesLatestAt!: Date | null;
  @Column({ name: 'ces_trend', type: 'numeric', precision: 8, scale: 4, nullable: true }) cesTrend!: string | null;
  @Column({ name: 'ces_recent', type: 'jsonb' }) cesRecent!: StoredAnswer[];
  @Column({ name: 'last_phone_moment_id', type: 'text', nullable: true }) lastPhoneMomentId!: string | null;
  @Column({ name: 'last_phone_outcome', type: 'text', nullable: true }) lastPhoneOutcome!: string | null;
  @Column({ name: 'last_phone_at', type: 'timestamptz', nullable: true }) lastPhoneAt!: Date | null;
  @Column({ name: 'last_phone_position', type: 'bigint', nullable: true }) lastPhonePosition!: string | null;
  @Column({ name: 'payments', type: 'integer' }) payments!: number;
  @Column({ name: 'value_amount', type: 'numeric', precision: 24, scale: 4, nullable: true }) valueAmount!: string | null;
  @Column({ name: 'value_currency', type: 'text', nullable: true }) valueCurrency!: string | null;
  /** Currency code -> sum with 4 decimals, as a string (`{"EUR": "120.5000"}`). */
  @Column({ name: 'value_by_currency', type: 'jsonb' }) valueByCurrency!: Record<string, string>;
  @Column({ name: 'complaints_filed', type: 'integer' }) complaintsFiled!: number;
  @Column({ name: 'open_complaints', type: 'integer' }) openComplaints!: number;
  @Column({ name: 'next_sla_due_at', type: 'timestamptz', nullable: true }) nextSlaDueAt!: Date | null;
  @Column({ name: 'at_risk', type: 'boolean' }) atRisk!: boolean;
  @Column({ name: 'risk_reasons', type: 'text', array: true }) riskReasons!: string[];
  @Column({ name: 'last_position', type: 'bigint' }) lastPosition!: string;
}

/** `rm_customer_channels`: contacts per customer and channel. */
@Entity({ name: 'rm_customer_channels' })
export class CustomerChannelRow {
  @PrimaryColumn({ name: 'customer_id', type: 'text' }) customerId!: string;
  @PrimaryColumn({ name: 'channel', type: 'text' }) channel!: string;
  @Column({ name: 'channel_group', type: 'text', nullable: true }) channelGroup!: string | null;
  @Column({ name: 'moments', type: 'integer' }) moments!: number;
  @Column({ name: 'complaints', type: 'integer' }) complaints!: number;
  @Column({ name: 'last_at', type: 'timestamptz' }) lastAt!: Date;
  @Column({ name: 'last_position', type: 'bigint' }) lastPosition!: string;
}

/** `rm_customer_complaints`: each complaint not closed yet. */
@Entity({ name: 'rm_customer_complaints' })
export class CustomerComplaintRow {
  @PrimaryColumn({ name: 'complaint_id', type: 'text' }) complaintId!: string;
  @Column({ name: 'customer_id', type: 'text' }) customerId!: string;
  @Column({ name: 'stage', type: 'text' }) stage!: string;
  @Column({ name: 'severity', type: 'text' }) severity!: string;
  @Column({ name: 'category', type: 'text' }) category!: string;
  @Column({ name: 'channel', type: 'text' }) channel!: string;
  @Column({ name: 'area', type: 'text', nullable: true }) area!: string | null;
  @Column({ name: 'filed_at', type: 'timestamptz' }) filedAt!: Date;
  @Column({ name: 'due_at', type: 'timestamptz', nullable: true }) dueAt!: Date | null;
  @Column({ name: 'stage_at', type: 'timestamptz' }) stageAt!: Date;
  @Column({ name: 'reopened', type: 'integer' }) reopened!: number;
  @Column({ name: 'last_position', type: 'bigint' }) lastPosition!: string;
}

export const customer360Entities = [Customer360Row, CustomerChannelRow, CustomerComplaintRow];
