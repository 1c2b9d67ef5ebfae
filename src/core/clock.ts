/** A clock, injectable so tests control time. */
export interface CrmClock {
  now(): Date;
}

/** The wall clock. */
export const systemClock: CrmClock = { now: () => new Date() };
