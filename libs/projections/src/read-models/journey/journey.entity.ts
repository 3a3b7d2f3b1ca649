import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One line of a customer's journey: where an event of theirs sits in the log. An index only; the
 * event itself is read from `cx_events` by position, so personal data is never copied here.
 */
@Entity({ name: 'rm_journey' })
export class JourneyEntry {
  @PrimaryColumn({ name: 'customer_id', type: 'text' })
  customerId!: string;

  /** Log position (bigint), as a string of digits. */
  @PrimaryColumn({ name: 'position', type: 'bigint' })
  position!: string;

  /** Stored type, `moment.recorded.v1`. */
  @Column({ name: 'type', type: 'text' })
  type!: string;

  /** Business time from the event's data (`occurredAt`, `filedAt`, ...), else when it was recorded. */
  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;
}
