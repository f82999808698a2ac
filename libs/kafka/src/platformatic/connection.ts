// The platformatic clients' connection settings from the ones createKafka takes (brokers, TLS,
// SASL, timeouts), so both clients read one configuration.
import type { KafkaConnectionOptions } from '../kafka-client';

export type PlatformaticConnectionOptions = Pick<
  KafkaConnectionOptions,
  'brokers' | 'clientId' | 'ssl' | 'sasl' | 'connectionTimeoutMs' | 'requestTimeoutMs'
>;

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

export interface PlatformaticBaseOptions {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  timeout: number;
  /** What the connections read (the library's `timeout` option does not reach them). */
  requestTimeout: number;
  tls?: Record<string, never>;
  sasl?: { mechanism: (typeof SASL_MECHANISMS)[keyof typeof SASL_MECHANISMS]; username: string; password: string };
}

export function platformaticBaseOptions(options: PlatformaticConnectionOptions): PlatformaticBaseOptions {
  return {
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    connectTimeout: options.connectionTimeoutMs ?? 3_000,
    timeout: options.requestTimeoutMs ?? 30_000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    ...(options.ssl ? { tls: {} } : {}),
    ...(options.sasl
      ? { sasl: { mechanism: SASL_MECHANISMS[options.sasl.mechanism], username: options.sasl.username, password: options.sasl.password } }
      : {}),
  };
}
