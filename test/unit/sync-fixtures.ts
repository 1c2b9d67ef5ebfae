import type { CrmContactInput } from '../../src/index.js';

/** A clock the test moves by hand. */
export function manualClock(start = '2026-01-01T00:00:00.000Z') {
  let now = new Date(start).getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Host contact number `i`, with optional overrides. */
export function contact(i: number, patch: Partial<CrmContactInput> = {}): CrmContactInput {
  return {
    externalId: `h-${i}`,
    email: `user${i}@example.com`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    ...patch,
  };
}
