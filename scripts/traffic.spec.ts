import { operationsDue, parseDuration } from './traffic';

describe('traffic generator pacing', () => {
  it('starts rate x elapsed operations, never more', () => {
    expect(operationsDue(5, 0)).toBe(0);
    expect(operationsDue(5, 199)).toBe(0);
    expect(operationsDue(5, 200)).toBe(1);
    expect(operationsDue(50, 1_000)).toBe(50);
    expect(operationsDue(0.5, 4_000)).toBe(2);
  });

  it('parses durations and names the option when it cannot', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5')).toBe(1_500);
    expect(() => parseDuration('soon')).toThrow('--duration');
  });
});
