import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One moment of truth, as recorded: the facts every satisfaction grouping is computed from. */
@Entity({ name: 'rm_moments' })
export class MomentFact {
  @PrimaryColumn({ name: 'moment_id', type: 'text' })
  momentId!: string;

  @Column({ name: 'customer_id', type: 'text' })
  customerId!: string;

  @Column({ type: 'text' })
  kind!: string;

  @Column({ type: 'text' })
  channel!: string;

  @Column({ name: 'channel_group', type: 'text', nullable: true })
  channelGroup!: string | null;

  @Column({ type: 'text', nullable: true })
  area!: string | null;

  @Column({ type: 'text', nullable: true })
  touchpoint!: string | null;

  @Column({ type: 'text', nullable: true })
  outcome!: string | null;

  @Column({ name: 'wait_seconds', type: 'double precision', nullable: true })
  waitSeconds!: number | null;

  @Column({ name: 'expected_wait_seconds', type: 'double precision', nullable: true })
  expectedWaitSeconds!: number | null;

  @Column({ name: 'wait_explained', type: 'boolean', nullable: true })
  waitExplained!: boolean | null;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'bigint' })
  position!: string;
}

/** One survey answer, with the kind, channel and area of the moment it rates when that is known. */
@Entity({ name: 'rm_feedback' })
export class FeedbackFact {
  @PrimaryColumn({ name: 'feedback_id', type: 'uuid' })
  feedbackId!: string;

  @Column({ name: 'customer_id', type: 'text' })
  customerId!: string;

  @Column({ name: 'moment_id', type: 'text', nullable: true })
  momentId!: string | null;

  @Column({ type: 'smallint', nullable: true })
  nps!: number | null;

  @Column({ type: 'smallint', nullable: true })
  csat!: number | null;

  @Column({ type: 'smallint', nullable: true })
  ces!: number | null;

  @Column({ name: 'submitted_at', type: 'timestamptz' })
  submittedAt!: Date;

  @Column({ type: 'text', nullable: true })
  kind!: string | null;

  @Column({ type: 'text', nullable: true })
  channel!: string | null;

  @Column({ name: 'channel_group', type: 'text', nullable: true })
  channelGroup!: string | null;

  @Column({ type: 'text', nullable: true })
  area!: string | null;

  @Column({ type: 'bigint' })
  position!: string;
}
