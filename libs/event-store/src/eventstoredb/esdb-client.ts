import {
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult,
  type Direction,
  EventStoreDBClient,
  type Filter,
  type JSONEventData,
  type ReadPosition,
  type ReadRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';

/** A live subscription to `$all`: the events it delivers, and a way to end it. */
export type EsdbSubscriptionSource = AsyncIterable<AllStreamResolvedEvent> & {
  unsubscribe(): Promise<void>;
  /** Ends the iteration at once (a Node stream's destroy); optional for sources that end on unsubscribe. */
  destroy?(error?: Error): unknown;
};

/**
 * The part of `@eventstore/db-client`'s client that the adapter uses. The real client fits it
 * as it is; the unit tests give an in-memory stand-in. Reads throw the client's
 * StreamNotFoundError for a stream that has no events.
 */
export type EsdbClient = {
  appendToStream(streamName: string, events: JSONEventData[], options: { expectedRevision: AppendExpectedRevision; deadline?: number }): Promise<AppendResult>;
  readStream(
    streamName: string,
    options: { fromRevision?: ReadRevision; direction?: Direction; maxCount?: number | bigint; deadline?: number },
  ): AsyncIterable<ResolvedEvent>;
  readAll(options: { fromPosition?: ReadPosition; direction?: Direction; maxCount?: number | bigint; deadline?: number }): AsyncIterable<AllStreamResolvedEvent>;
  subscribeToAll(options: { fromPosition?: ReadPosition; filter?: Filter }): EsdbSubscriptionSource;
  dispose(): Promise<void>;
};

/**
 * A client for an EventStoreDB connection string (`esdb://host:2113?tls=false`, or
 * `esdb+discover://…` for a cluster). It connects on first use, not here.
 */
export function connectEsdb(url: string): EsdbClient {
  if (!/^esdb(\+discover)?:\/\//.test(url)) {
    throw new Error(`EVENTSTOREDB_URL must be an esdb:// or esdb+discover:// connection string, got ${JSON.stringify(url.split('?')[0])}`);
  }
  return EventStoreDBClient.connectionString(url);
}
