import { Injectable } from '@nestjs/common';

export type HealthCheckResult = { status: 'up' | 'degraded' | 'down'; [detail: string]: unknown };

/** Where modules add what `/health` reports: the projections' progress, later the Kafka relay's. */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, () => Promise<HealthCheckResult>>();

  register(name: string, check: () => Promise<HealthCheckResult>): void {
    this.checks.set(name, check);
  }

  async run(): Promise<Record<string, HealthCheckResult>> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          return [name, await check()] as const;
        } catch (error) {
          return [name, { status: 'down', error: (error as Error).message } as HealthCheckResult] as const;
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}
