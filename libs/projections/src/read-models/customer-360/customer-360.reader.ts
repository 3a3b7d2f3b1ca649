import type { ComplaintStage, CustomerShape, MeasureAsOf, OpenedProfile, Tier } from '@cx/domain';
import type { PiiVault } from '@cx/platform';
import { type DataSource, In } from 'typeorm';
import { Customer360Row, CustomerChannelRow, CustomerComplaintRow } from './customer-360.entities.js';
import { type Measure, measures, slaReason, tierWatched, trendOf, type Trend } from './customer-360.fold.js';
import { type CustomerListQuery, encodeCursor } from './customer-360.query.js';

/** What `GET /v1/customers/{id}` answers: the customer 360 view's shape (shared with the replay), profile opened. */
export type CustomerView = CustomerShape<OpenedProfile>;

export type CustomerPage = { customers: CustomerView[]; nextCursor: string | null; asOf: string };

const iso = (date: Date | null): string | null => (date === null ? null : date.toISOString());
const round2 = (x: number): number => Math.round(x * 100) / 100 + 0;

function roundTrend(trend: Trend | null): Trend | null {
  return trend && { ...trend, recentMean: round2(trend.recentMean), previousMean: round2(trend.previousMean), change: round2(trend.change) };
}

function measureView(row: Customer360Row, measure: Measure): MeasureAsOf {
  const columns = {
    nps: { latest: row.npsLatest, latestAt: row.npsLatestAt, answers: row.npsAnswers, recent: row.npsRecent },
    csat: { latest: row.csatLatest, latestAt: row.csatLatestAt, answers: row.csatAnswers, recent: row.csatRecent },
    ces: { latest: row.cesLatest, latestAt: row.cesLatestAt, answers: row.cesAnswers, recent: row.cesRecent },
  }[measure];
  const recent = columns.recent.map((a) => ({ score: a.score, at: Date.parse(a.at), position: BigInt(a.position) }));
  return { latest: columns.latest, latestAt: iso(columns.latestAt), answers: columns.answers, trend: roundTrend(trendOf(measure, recent)) };
}

/**
 * The risk of a customer at `asOf`: the reasons stored by the projection (detractor, negative phone
 * moment), plus one per complaint unresolved past its SLA at that instant, on an A or B customer.
 */
export function riskAt(row: Customer360Row, complaints: readonly CustomerComplaintRow[], asOf: Date): string[] {
  const reasons = [...row.riskReasons];
  if (!tierWatched(row.tier)) return reasons;
  const due = complaints
    .map((c) => ({ complaintId: c.complaintId, severity: c.severity, stage: c.stage, dueAt: c.dueAt?.getTime() ?? null }))
    .sort((a, b) => (a.dueAt ?? 0) - (b.dueAt ?? 0) || (a.complaintId < b.complaintId ? -1 : 1));
  for (const complaint of due) {
    const reason = slaReason(complaint, asOf.getTime());
    if (reason) reasons.push(reason);
  }
  return reasons;
}

function customerView(
  row: Customer360Row,
  channels: readonly CustomerChannelRow[],
  complaints: readonly CustomerComplaintRow[],
  opened: { data: Record<string, unknown>; erased: string[] },
  asOf: Date,
): CustomerView {
  const reasons = riskAt(row, complaints, asOf);
  const text = (field: string) => (opened.data[field] as string | null | undefined) ?? null;
  return {
    customerId: row.customerId,
    profile: {
      name: text('name'),
      email: text('email'),
      phone: text('phone'),
      locale: row.locale,
      declaredPreferredChannel: row.declaredChannel,
      registeredAt: iso(row.registeredAt),
      updatedAt: iso(row.profileUpdatedAt),
      erased: opened.erased,
    },
    tier: row.tier as Tier,
    tierChangedAt: iso(row.tierChangedAt),
    preferredChannel: row.preferredChannel,
    lastContactAt: iso(row.lastContactAt),
    moments: {
      total: row.moments,
      byChannelGroup: { personal: row.momentsPersonal, telephone: row.momentsTelephone, print: row.momentsPrint, electronic: row.momentsElectronic },
    },
    channels: [...channels]
      .sort((a, b) => b.moments + b.complaints - (a.moments + a.complaints) || b.lastAt.getTime() - a.lastAt.getTime() || (a.channel < b.channel ? -1 : 1))
      .map((c) => ({ channel: c.channel, channelGroup: c.channelGroup, moments: c.moments, complaints: c.complaints, lastContactAt: c.lastAt.toISOString() })),
    satisfaction: Object.fromEntries(measures.map((m) => [m, measureView(row, m)])) as Record<Measure, MeasureAsOf>,
    complaintsFiled: row.complaintsFiled,
    openComplaints: {
      count: row.openComplaints,
      items: [...complaints]
        .sort((a, b) => a.filedAt.getTime() - b.filedAt.getTime() || (a.complaintId < b.complaintId ? -1 : 1))
        .map((c) => ({
          complaintId: c.complaintId,
          stage: c.stage as ComplaintStage,
          severity: c.severity,
          category: c.category,
          channel: c.channel,
          area: c.area,
          filedAt: c.filedAt.toISOString(),
          dueAt: iso(c.dueAt),
          pastSla: slaReason({ ...c, dueAt: c.dueAt?.getTime() ?? null }, asOf.getTime()) !== null,
          reopened: c.reopened,
        })),
    },
    value: {
      amount: row.valueAmount === null ? null : Number(row.valueAmount),
      currency: row.valueCurrency,
      payments: row.payments,
      byCurrency: Object.fromEntries(Object.entries(row.valueByCurrency).map(([currency, amount]) => [currency, Number(amount)])),
    },
    atRisk: reasons.length > 0,
    riskReasons: reasons,
    asOf: asOf.toISOString(),
    position: row.lastPosition,
  };
}

const PII_FIELDS = ['name', 'email', 'phone'] as const;

/** Reads the customer 360 tables and opens the profiles: the query side of the read model. */
export class Customer360Reader {
  constructor(
    private readonly dataSource: DataSource,
    private readonly vault: PiiVault,
  ) {}

  async one(customerId: string, asOf: Date): Promise<CustomerView | null> {
    const row = await this.dataSource.getRepository(Customer360Row).findOneBy({ customerId });
    if (!row) return null;
    const [view] = await this.views([row], asOf);
    return view;
  }

  /** A page in customer id order; the SLA part of `atRisk` is evaluated at `asOf` in the query itself. */
  async page(query: CustomerListQuery): Promise<CustomerPage> {
    const builder = this.dataSource.getRepository(Customer360Row).createQueryBuilder('c');
    if (query.tier !== undefined) builder.andWhere('c.tier = :tier', { tier: query.tier });
    if (query.after !== undefined) builder.andWhere('c.customer_id > :after', { after: query.after });
    if (query.atRisk !== undefined) {
      const atRisk = `(c.at_risk OR (c.tier IN ('A', 'B') AND c.next_sla_due_at IS NOT NULL AND c.next_sla_due_at < :asOf))`;
      builder.andWhere(query.atRisk ? atRisk : `NOT ${atRisk}`, { asOf: query.asOf });
    }
    const rows = await builder
      .orderBy('c.customer_id', 'ASC')
      .limit(query.limit + 1)
      .getMany();
    const page = rows.slice(0, query.limit);
    return {
      customers: await this.views(page, query.asOf),
      nextCursor: rows.length > query.limit ? encodeCursor(page[page.length - 1].customerId) : null,
      asOf: query.asOf.toISOString(),
    };
  }

  private async views(rows: readonly Customer360Row[], asOf: Date): Promise<CustomerView[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.customerId);
    const [channels, complaints, opened] = await Promise.all([
      this.dataSource.getRepository(CustomerChannelRow).findBy({ customerId: In(ids) }),
      this.dataSource.getRepository(CustomerComplaintRow).findBy({ customerId: In(ids) }),
      this.vault.unsealFields(
        rows.map((r) => ({ customerId: r.customerId, data: { name: r.name, email: r.email, phone: r.phone }, fields: PII_FIELDS })),
      ),
    ]);
    const byCustomer = <T extends { customerId: string }>(items: readonly T[]) => {
      const map = new Map<string, T[]>();
      for (const item of items) map.set(item.customerId, [...(map.get(item.customerId) ?? []), item]);
      return map;
    };
    const channelsOf = byCustomer(channels);
    const complaintsOf = byCustomer(complaints);
    return rows.map((row, i) => customerView(row, channelsOf.get(row.customerId) ?? [], complaintsOf.get(row.customerId) ?? [], opened[i], asOf));
  }
}
