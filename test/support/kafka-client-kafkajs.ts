// jest project e2e-kafkajs: every invalidator a test starts (invalidatorTestEnv) uses the second
// Kafka client, kafkajs (the default is platformatic). Jest gives each test file its own copy of
// process.env, so this stays in the files of that project.
process.env.KAFKA_CLIENT = 'kafkajs';
