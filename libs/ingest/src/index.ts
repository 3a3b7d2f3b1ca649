export { CloudEventDto, type FieldError, piiFields, type ValidCloudEvent, validateCloudEvent } from './cloud-event.dto.js';
export { nameBasedUuid, storedEventId } from '@cx/event-store';
export { type IngestContext, type IngestOutcome, IngestService, type ItemResult, type PiiSealer } from './ingest.service.js';
export { IngestController, MAX_BATCH_EVENTS } from './ingest.controller.js';
export { IngestModule } from './ingest.module.js';
