// Y-axis ticks of the dashboard charts: round steps (1, 2, 5 x 10^n) from 0 to at least the
// largest value, integers only for counts. Runs in the browser too (its source is embedded in
// the page), so plain ES5 in one function. Before: labels at 0, max/2, max rounded, which read
// "1, 1, 0" for a lag of 0.
export function niceTicks(max: number, integer: boolean): number[] {
  if (!(max > 0)) max = 1;
  const raw = max / 4;
  const mag = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
  const n = raw / mag;
  let step = (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const count = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = 0; i <= count; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}
