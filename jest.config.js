// Three projects: `unit` (beside the code, no servers), `e2e` (test/, real Kafka + Redis
// started once per run by test/global-setup.ts, with the default Kafka client, platformatic) and
// `e2e-kafkajs`: the invalidator's guarantee tests again with KAFKA_CLIENT=kafkajs (the second client). Both e2e
// projects name the same globalSetup, which jest runs once: one stack for the whole run.
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

// The guarantee subset run a second time with the second client, kafkajs (docs/benchmark.md, "Second Kafka client").
const SECOND_CLIENT_GUARANTEES = [
  'test/invalidator/invalidator-pipeline.e2e-spec.ts',
  'test/invalidator/invalidator-faults.e2e-spec.ts',
  'test/invalidator/invalidator-dead-letters.e2e-spec.ts',
  'test/invalidator/invalidator-consumer-crash.e2e-spec.ts',
  'test/kafka/kafka-codecs.e2e-spec.ts',
];

const moduleNameMapper = pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' });
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
};

module.exports = {
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      moduleFileExtensions: ['ts', 'js', 'json'],
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/examples/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts'],
      transform,
      moduleNameMapper,
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      moduleFileExtensions: ['ts', 'js', 'json'],
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-e2e-setup.ts'],
    },
    {
      displayName: 'e2e-kafkajs',
      rootDir: __dirname,
      testEnvironment: 'node',
      moduleFileExtensions: ['ts', 'js', 'json'],
      testMatch: SECOND_CLIENT_GUARANTEES.map((f) => `<rootDir>/${f}`),
      transform,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/kafka-client-kafkajs.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/jest-e2e-setup.ts'],
    },
  ],
};
