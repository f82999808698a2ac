// No zombie consumer: when the Kafka client gives up on the consumer (a crash with restart=false), the
// invalidator says why in one log line and either exits non-zero (default, the orchestrator
// restarts the container) or, with EXIT_ON_CONSUMER_CRASH=false, stays up with /health/live and
// /health/ready at 503 (a liveness probe restarts it). The non-retriable error is a real one:
// a librdkafka member (kcat) holds the group with the cooperative-sticky assignor, which neither
// client offers, so the broker answers the invalidator's JoinGroup with INCONSISTENT_GROUP_PROTOCOL.
import { CONSUMER_CRASH_EXIT_CODE } from '../../apps/invalidator/src/consumer-crash';
import { invalidatorTestEnv, InvalidatorTestEnv } from '../support/invalidator-env';
import { InvalidatorProcess, spawnInvalidator } from '../../scripts/support/invalidator-process';
import { KcatGroupMember, kcatGroupMember, requireKcat } from '../support/kcat';
import { eventually, kafka } from '../support/stack-env';

// The client under test (KAFKA_CLIENT, set to kafkajs by the e2e-kafkajs jest project; else the
// default, platformatic): both give up on INCONSISTENT_GROUP_PROTOCOL; kafkajs names its error
// class, @platformatic/kafka a ProtocolError.
const CLIENT = process.env.KAFKA_CLIENT === 'kafkajs' ? 'kafkajs' : 'platformatic';
const ERROR_CLASS = CLIENT === 'platformatic' ? 'ProtocolError' : 'KafkaJSProtocolError';
const CRASH_LINE = new RegExp(`consumer stopped for good, ${CLIENT} will not restart it`);

async function groupState(groupId: string): Promise<{ state: string; protocol: string }> {
  const admin = kafka('e2e-crash-admin').admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return { state: groups[0]?.state ?? 'Unknown', protocol: groups[0]?.protocol ?? '' };
  } finally {
    await admin.disconnect();
  }
}

/** A foreign member holds the group with an assignor kafkajs does not speak. */
async function holdGroup(t: InvalidatorTestEnv): Promise<KcatGroupMember> {
  const member = kcatGroupMember(t.groupId, t.topic, 'cooperative-sticky');
  await eventually(
    'kcat holds the group (Stable, cooperative-sticky)',
    async () => {
      if (member.child.exitCode !== null) throw new Error(`kcat exited: ${member.output()}`);
      const g = await groupState(t.groupId);
      return g.state === 'Stable' && g.protocol === 'cooperative-sticky';
    },
    30_000,
    200,
  );
  return member;
}

function crashLines(output: string): string[] {
  return output.split('\n').filter((line) => CRASH_LINE.test(line));
}

async function exitCodeWithin(proc: InvalidatorProcess, ms: number): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    proc.exited,
    new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms))),
  ]);
  clearTimeout(timer);
  return result;
}

describe('invalidator: a consumer its Kafka client will not restart is not left running (real INCONSISTENT_GROUP_PROTOCOL)', () => {
  let member: KcatGroupMember | undefined;
  let proc: InvalidatorProcess | undefined;

  beforeAll(() => requireKcat());

  afterEach(async () => {
    if (proc && proc.child.exitCode === null) await proc.terminate(10_000);
    proc = undefined;
    await member?.stop();
    member = undefined;
  });

  it('default: logs the cause once, releases everything and exits with a non-zero code', async () => {
    const t = await invalidatorTestEnv({ partitions: 1, extra: { LOG_LEVEL: 'info' } });
    member = await holdGroup(t);
    proc = await spawnInvalidator(t.env, { waitReady: false });
    const code = await exitCodeWithin(proc, 40_000);
    const output = proc.output();
    expect({ code, output }).toEqual({ code: CONSUMER_CRASH_EXIT_CODE, output: expect.any(String) });
    const lines = crashLines(output);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 50, type: 'INCONSISTENT_GROUP_PROTOCOL', topic: t.topic, exit: true });
    expect(line.msg).toContain(`: ${ERROR_CLASS}: The group member's supported protocols are incompatible with those of existing members`);
    expect(line.msg).toContain(`topic ${t.topic}`);
    // graceful release before the exit: the shutdown sequence ran to its end
    const order = { crashAt: output.indexOf(lines[0]), shutdownCompleteAt: output.indexOf('shutdown complete') };
    if (!(order.shutdownCompleteAt > order.crashAt)) throw new Error(`shutdown did not complete after the crash line:\n${output}`);
  });

  it('EXIT_ON_CONSUMER_CRASH=false: stays up, /health/live and /health/ready answer 503 with the reason, the crash is counted', async () => {
    const t = await invalidatorTestEnv({ partitions: 1, extra: { EXIT_ON_CONSUMER_CRASH: 'false' } });
    member = await holdGroup(t);
    const running = await spawnInvalidator(t.env, { waitReady: false });
    proc = running;
    const base = `http://127.0.0.1:${running.port}`;
    await eventually(
      '/health/live answers 503',
      async () => {
        if (running.child.exitCode !== null) throw new Error(`invalidator exited with ${running.child.exitCode}:\n${running.output()}`);
        return (await fetch(`${base}/health/live`)).status === 503;
      },
      40_000,
      200,
    );
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(503);
    expect(await live.json()).toMatchObject({
      status: 'consumer-crashed',
      type: 'INCONSISTENT_GROUP_PROTOCOL',
      topic: t.topic,
      reason: expect.stringContaining('incompatible'),
    });
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not-ready', checks: { consumerNotCrashed: false } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/invalidator_consumer_crashes_total\{restart="false"\} 1/);
    expect(running.child.exitCode).toBeNull();
    const lines = crashLines(running.output());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('EXIT_ON_CONSUMER_CRASH=false');
    // a SIGTERM still stops it cleanly
    expect(await running.terminate(15_000)).toBe(0);
  });
});
