// The only place in apps/ and libs/ that constructs a kafkajs client (a unit test checks it):
// brokers, TLS, SASL, retry, log bridging, and every compression codec registered (codecs.ts).
import { Kafka, KafkaConfig, logCreator, logLevel, RetryOptions, SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { registerKafkaCodecs } from './codecs';
import { kafkaLogBridge, KafkaLogBridgeOptions } from './log-bridge';

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** kafkajs client retry (connect, metadata, joins). Default { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 }; `{}` means kafkajs' own defaults. */
  retry?: RetryOptions;
  /** Default WARN. */
  logLevel?: logLevel;
  /** kafkajs log entries go to this pino logger through the one bridge (log-bridge.ts): retried-and-harmless entries as debug, errors as errors, warnings as warnings, the rest as debug. */
  logger?: Logger;
  /** How the bridge classifies entries (with `logger`). */
  logBridge?: KafkaLogBridgeOptions;
  /** Replaces the `logger` bridge when a caller classifies kafkajs entries itself. */
  logCreator?: logCreator;
  /** Any other kafkajs client setting (socketFactory, other SASL mechanisms...), applied over the ones above. */
  kafkaConfig?: Omit<KafkaConfig, 'brokers' | 'clientId'>;
}

export function createKafka(options: KafkaConnectionOptions): Kafka {
  registerKafkaCodecs();
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    ssl: options.ssl ?? false,
    sasl: options.sasl as SASLOptions | undefined,
    connectionTimeout: options.connectionTimeoutMs ?? 3_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: options.retry ?? { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
    logLevel: options.logLevel ?? logLevel.WARN,
  };
  if (options.logCreator) config.logCreator = options.logCreator;
  // kafkajs logs through pino so its warnings land in the same structured stream.
  else if (options.logger) config.logCreator = kafkaLogBridge(options.logger, options.logBridge);
  return new Kafka({ ...config, ...options.kafkaConfig });
}
