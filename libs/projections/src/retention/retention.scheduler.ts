import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AlertDispatcher } from './alert.dispatcher.js';
import { ReadModelBehindError } from './read-model.gate.js';
import { RETENTION_CONFIG, type RetentionConfig } from './retention.config.js';
import { TierJob } from './tier.job.js';

/** Whether this process folds the log (ProjectionsModule's `run` option): the retention jobs run where the projections run. */
export const RUNS_PROJECTIONS = 'CX_RUN_PROJECTIONS';

type Loop = { timer?: NodeJS.Timeout; busy?: Promise<void> };

/**
 * Runs the tier job every CX_TIER_INTERVAL_MINUTES and the alert dispatcher every
 * CX_RETENTION_ALERT_INTERVAL_SECONDS, in processes that run projections. The first round comes
 * one interval after start, when the read models have caught up. A round is skipped while the
 * previous one still runs, or while the read models are behind the log. Several processes may run
 * them: every append is decided under a lock or has a deterministic id, so nothing doubles.
 */
@Injectable()
export class RetentionScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private readonly loops: Loop[] = [];

  constructor(
    @Inject(RETENTION_CONFIG) private readonly config: RetentionConfig,
    @Inject(TierJob) private readonly tiers: TierJob,
    @Inject(AlertDispatcher) private readonly alerts: AlertDispatcher,
    @Inject(RUNS_PROJECTIONS) private readonly runsProjections: boolean,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.runsProjections) return;
    if (this.config.tierIntervalMinutes > 0) {
      this.every(this.config.tierIntervalMinutes * 60_000, async () => {
        const run = await this.tiers.run(new Date());
        if (run.changes.length > 0) this.logger.log(`tiers recomputed: ${run.changes.length} changes (${run.tiers.A} A, ${run.tiers.B} B, ${run.tiers.C} C with value)`);
      });
    }
    if (this.config.alertIntervalSeconds > 0) {
      this.every(this.config.alertIntervalSeconds * 1_000, async () => {
        const sent = (await this.alerts.run(new Date())).filter((a) => a.status === 'appended');
        if (sent.length > 0) this.logger.log(`retention alerts raised: ${sent.length}`);
      });
    }
  }

  private every(ms: number, round: () => Promise<void>): void {
    const loop: Loop = {};
    loop.timer = setInterval(() => {
      if (loop.busy) return;
      loop.busy = round()
        .catch((error: unknown) => {
          if (error instanceof ReadModelBehindError) this.logger.warn(`retention round skipped: ${error.message}`);
          else this.logger.error(`retention round failed: ${error instanceof Error ? error.message : String(error)}`);
        })
        .finally(() => (loop.busy = undefined));
    }, ms);
    loop.timer.unref();
    this.loops.push(loop);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const loop of this.loops) clearInterval(loop.timer);
    await Promise.all(this.loops.map((loop) => loop.busy));
  }
}
