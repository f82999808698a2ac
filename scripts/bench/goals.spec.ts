import { evaluateGoals, GoalInputs } from './goals';

const base: GoalInputs = {
  oursEventsPerSec: 35_000,
  plainDelEventsPerSec: 175_000,
  naiveEventsPerSec: 2_500,
  cpuMicrosPerEvent: 24,
  peakRssMb: 200,
  latencyRate: 5000,
  oursP99Ms: 30,
  rawHopP99Ms: 20,
  redisMicrosPerEvent: 6,
  threeKeyRedisMicrosPerEvent: 15,
};

describe('evaluateGoals', () => {
  it('says met / missed and by how much for each of the cost goals', () => {
    const rows = evaluateGoals(base);
    expect(rows.map((r) => [r.met, r.by])).toEqual([
      [false, 'missed by 2.50x'], // 0.20x of plain DEL vs >= 0.5x
      [false, 'missed by 2.00x'], // 24 µs vs <= 12 µs
      [true, 'met, 1.28x margin'], // 200 MB vs <= 256 MB
      [true, 'met, 1.33x margin'], // 30 / 20 ms = 1.5x vs <= 2x
      [true, 'met, 1.40x margin'], // 14x vs >= 10x
      [true, 'met, 1.25x margin'], // 6 / 15 µs = 0.4x vs <= 0.5x
    ]);
    expect(rows[5].measured).toBe('0.40x (6.0 / 15.0 µs)');
    expect(rows[0]).toMatchObject({ measured: '0.20x', target: '>= 0.50x' });
    expect(rows[1]).toMatchObject({ measured: '24.0 µs', target: '<= 12.0 µs' });
    expect(rows[3].measured).toBe('1.50x (30.0 / 20.0 ms)');
    expect(rows[3].goal).toContain('5000/s');
  });

  it('treats the boundary as met', () => {
    const rows = evaluateGoals({
      ...base,
      oursEventsPerSec: 87_500,
      cpuMicrosPerEvent: 12,
      peakRssMb: 256,
      oursP99Ms: 40,
      naiveEventsPerSec: 8_750,
      redisMicrosPerEvent: 7.5,
    });
    expect(rows.map((r) => r.met)).toEqual([true, true, true, true, true, true]);
    expect(rows.every((r) => r.by === 'met, 1.00x margin')).toBe(true);
  });

  it('cannot evaluate the latency goal without both p99s (or with a zero baseline)', () => {
    for (const missing of [{ rawHopP99Ms: undefined }, { oursP99Ms: undefined }, { rawHopP99Ms: 0 }, { oursP99Ms: NaN }]) {
      const latency = evaluateGoals({ ...base, ...missing })[3];
      expect(latency).toMatchObject({ met: null, by: 'not measured', measured: '-' });
    }
  });

  it('cannot evaluate the Redis CPU goal without its same-run baseline', () => {
    expect(evaluateGoals({ ...base, threeKeyRedisMicrosPerEvent: undefined })[5]).toMatchObject({ met: null, by: 'not measured' });
    expect(evaluateGoals({ ...base, redisMicrosPerEvent: 12 })[5]).toMatchObject({ met: false, by: 'missed by 1.60x' });
  });

  it('a missed latency goal reports the factor over the 2x budget', () => {
    expect(evaluateGoals({ ...base, oursP99Ms: 100, rawHopP99Ms: 10 })[3]).toMatchObject({ met: false, by: 'missed by 5.00x' });
  });
});
