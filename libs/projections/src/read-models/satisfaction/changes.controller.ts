import { channels as knownChannels, createMomentCatalogue, type MomentCatalogue } from '@cx/domain';
import type { EventStore } from '@cx/event-store';
import { currentCorrelationId, principalOf, RequireScopes } from '@cx/http';
import { DATABASE, type Database, EVENT_STORE, PLATFORM_CONFIG, type PlatformConfig } from '@cx/platform';
import { Body, Controller, Get, HttpCode, HttpException, HttpStatus, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsRFC3339,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
  type ValidationError,
  validateSync,
} from 'class-validator';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { ReadsProjections } from '../../read-your-writes.js';
import { DEFAULT_IMPACT_WINDOW_DAYS, findChange, MAX_IMPACT_WINDOW_DAYS, queryChangeImpact } from './change-impact.query.js';
import { CHANGE_RECORDED, type ChangeRecorded, changeStreamId } from './change.events.js';
import { type FieldError, rejected, single } from './query-params.js';

/** Only an absent field is optional: `null` is validated, and so refused. */
const Optional = () => ValidateIf((_object, value) => value !== undefined);

/** The body of `POST /v1/changes`. */
export class RecordChangeDto {
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @IsRFC3339({ message: 'effectiveAt must be an RFC 3339 timestamp, such as 2025-03-01T00:00:00Z' })
  effectiveAt!: string;

  @Optional()
  @IsArray()
  @ArrayNotEmpty({ message: 'kinds must not be empty: leave it out for a change that touches every kind' })
  @ArrayMaxSize(100)
  @ArrayUnique()
  @IsString({ each: true })
  kinds?: string[];

  @Optional()
  @IsArray()
  @ArrayNotEmpty({ message: 'channels must not be empty: leave it out for a change that touches every channel' })
  @ArrayUnique()
  @IsIn(knownChannels as string[], { each: true, message: `each value in channels must be one of ${knownChannels.join(', ')}` })
  channels?: string[];

  @Optional()
  @IsString()
  @MaxLength(4000)
  description?: string;
}

function fieldErrors(errors: readonly ValidationError[]): FieldError[] {
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) => ({
      field: error.property,
      // class-validator starts messages with the property name; the field already says it.
      message: message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message,
    })),
  );
}

/**
 * Change impact. `POST /v1/changes` records a dated change as a `change.recorded.v1` event in
 * its own stream (the `changes` projection makes it `rm_changes`); `GET /v1/changes/{id}/impact`
 * compares NPS, CSAT% and CES before and after it.
 */
@Controller('v1/changes')
export class ChangesController {
  private readonly catalogue: MomentCatalogue;

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
  ) {
    this.catalogue = createMomentCatalogue(config.momentKinds);
  }

  @Post()
  @RequireScopes('ops')
  @HttpCode(HttpStatus.CREATED)
  async record(@Body() body: unknown, @Req() request: Request) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      rejected([{ field: 'body', message: 'must be a JSON object with name, effectiveAt and optionally kinds, channels, description' }]);
    }
    const dto = plainToInstance(RecordChangeDto, body);
    const errors = fieldErrors(validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }));
    for (const kind of Array.isArray(dto.kinds) ? dto.kinds : []) {
      if (typeof kind === 'string' && !this.catalogue.kinds.includes(kind)) {
        errors.push({ field: 'kinds', message: `unknown moment kind ${JSON.stringify(kind)}; known kinds: ${this.catalogue.kinds.join(', ')}` });
      }
    }
    if (errors.length > 0) rejected(errors);

    const id = randomUUID();
    const data: ChangeRecorded['data'] = {
      changeId: id,
      name: dto.name,
      effectiveAt: new Date(dto.effectiveAt).toISOString(),
      ...(dto.kinds ? { kinds: dto.kinds } : {}),
      ...(dto.channels ? { channels: dto.channels } : {}),
      ...(dto.description !== undefined ? { description: dto.description } : {}),
    };
    const correlationId = currentCorrelationId();
    const principal = principalOf(request)?.keyId;
    const result = await this.store.append(
      changeStreamId(id),
      [{ id: randomUUID(), type: CHANGE_RECORDED, data, metadata: { ...(correlationId ? { correlationId } : {}), ...(principal ? { principal } : {}) } }],
      'no_stream',
    );
    return {
      id,
      name: data.name,
      effectiveAt: data.effectiveAt,
      kinds: data.kinds ?? null,
      channels: data.channels ?? null,
      description: data.description ?? null,
      position: result.position.toString(),
    };
  }

  @Get(':id/impact')
  @RequireScopes('read')
  @ReadsProjections('changes', 'satisfaction')
  async impact(@Param('id') id: string, @Query() query: Record<string, unknown>) {
    const errors: FieldError[] = [];
    const raw = single(query, 'windowDays', errors);
    const windowDays = raw === undefined ? DEFAULT_IMPACT_WINDOW_DAYS : /^\d{1,3}$/.test(raw) ? Number(raw) : Number.NaN;
    if (errors.length === 0 && !(windowDays >= 1 && windowDays <= MAX_IMPACT_WINDOW_DAYS)) {
      errors.push({ field: 'windowDays', message: `must be a whole number of days from 1 to ${MAX_IMPACT_WINDOW_DAYS}` });
    }
    if (errors.length > 0) rejected(errors);
    const change = await findChange(this.database.dataSource, id);
    if (!change) {
      throw new HttpException({ status: 'not_found', errors: [{ field: 'id', message: `no change ${JSON.stringify(id)}` }] }, HttpStatus.NOT_FOUND);
    }
    return queryChangeImpact(this.database.dataSource, change, windowDays, new Date());
  }
}
