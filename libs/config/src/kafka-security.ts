// The Kafka TLS/SASL variables every app that talks to Kafka reads (invalidator, registry,
// lag monitor): one definition, one check, one mapping to the client options of @app/kafka.
import 'reflect-metadata';
import { IsBoolean, IsIn, IsOptional, IsString } from 'class-validator';

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** Variables without a default, to list in a subclass's KEYS_WITHOUT_DEFAULT. */
export const KAFKA_SECURITY_KEYS_WITHOUT_DEFAULT = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];

/** Base class of an app config: extend it to get KAFKA_SSL and KAFKA_SASL_* validated by readConfig. */
export class KafkaSecurityConfig {
  @IsBoolean()
  KAFKA_SSL = false;

  @IsOptional()
  @IsIn(['plain', 'scram-sha-256', 'scram-sha-512'])
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism;

  @IsOptional()
  @IsString()
  KAFKA_SASL_USERNAME?: string;

  @IsOptional()
  @IsString()
  KAFKA_SASL_PASSWORD?: string;
}

/** For readConfig's extraChecks: SASL needs a username and a password. */
export function kafkaSecurityProblems(config: KafkaSecurityConfig): string[] {
  if (config.KAFKA_SASL_MECHANISM && (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD)) {
    return ['KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set when KAFKA_SASL_MECHANISM is set'];
  }
  return [];
}

/** The `ssl` and `sasl` options of createKafka (@app/kafka) for a validated config. */
export function kafkaSecurityOptions(config: KafkaSecurityConfig): {
  ssl: boolean;
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
} {
  return {
    ssl: config.KAFKA_SSL,
    sasl: config.KAFKA_SASL_MECHANISM
      ? { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME!, password: config.KAFKA_SASL_PASSWORD! }
      : undefined,
  };
}
