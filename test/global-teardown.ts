import { down } from '../scripts/stack/stack';

export default async function globalTeardown(): Promise<void> {
  if (process.env.STACK_USE) return;
  const name = process.env.STACK_NAME;
  if (name) await down(name);
}
