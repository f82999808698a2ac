import { niceTicks } from './chart-ticks';

describe('niceTicks', () => {
  it.each([
    [0, true, [0, 1]],
    [1, true, [0, 1]],
    [3, true, [0, 1, 2, 3]],
    [10, true, [0, 5, 10]],
    [1234, true, [0, 500, 1000, 1500]],
    [0, false, [0, 0.5, 1]],
    [0.8, false, [0, 0.2, 0.4, 0.6, 0.8]],
    [7.3, false, [0, 2, 4, 6, 8]],
  ])('max %p (integers %p) -> %j: distinct, ascending, covering the max', (max, integer, ticks) => {
    expect(niceTicks(max, integer)).toEqual(ticks);
  });
});
