/**
 * Salesforce record ids: 15-character case-sensitive ids and their 18-character case-insensitive
 * form (the 15 characters plus a 3-character checksum of the letter case), as documented in
 * "Working with Record IDs" / the `CASESAFEID()` formula function.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_PATTERN = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** Key prefixes of the objects the emulator ships (first three characters of every id). */
export const SALESFORCE_KEY_PREFIXES = {
  Account: '001',
  Contact: '003',
  Lead: '00Q',
  Campaign: '701',
  CampaignMember: '00v',
  Task: '00T',
  Individual: '0PK',
  User: '005',
  Organization: '00D',
  Opportunity: '006',
  OpportunityContactRole: '00K',
  PushTopic: '0IF',
  StreamingChannel: '0M6',
} as const;

/**
 * The 3-character case-safe suffix of a 15-character id: each 5-character chunk yields a 5-bit
 * number whose bit `i` is set when character `i` is an upper-case letter.
 *
 * @example
 * checksumSuffix('001000000000001') // 'AAA'
 */
export function checksumSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const ch = id15.charCodeAt(chunk * 5 + i);
      if (ch >= 65 && ch <= 90) bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET[bits];
  }
  return suffix;
}

/** Whether `value` has the shape of a Salesforce id (15 or 18 alphanumerics). */
export function isSalesforceIdShape(value: string): boolean {
  return ID_PATTERN.test(value);
}

/**
 * Normalises a 15- or 18-character id to its 18-character form; `undefined` when `value` is not
 * id-shaped. An 18-character id is rebuilt from its first 15 characters, which is what Salesforce
 * does when it accepts either form.
 */
export function toId18(value: string): string | undefined {
  if (!ID_PATTERN.test(value)) return undefined;
  const id15 = value.slice(0, 15);
  return id15 + checksumSuffix(id15);
}

/** The 15-character form of an id. */
export function toId15(value: string): string {
  return value.slice(0, 15);
}

/** Generates ids for one org. Instance-scoped: two emulators never share a counter. */
export class IdGenerator {
  private counter = 0;

  /**
   * @param podIdentifier two characters standing in for the instance/pod part of real ids.
   */
  constructor(private readonly podIdentifier = '8d') {}

  /** Next 18-character id with the given 3-character key prefix. */
  next(keyPrefix: string): string {
    this.counter += 1;
    let n = this.counter;
    let body = '';
    for (let i = 0; i < 9; i++) {
      body = BASE62[n % 62] + body;
      n = Math.floor(n / 62);
    }
    const id15 = `${keyPrefix}${this.podIdentifier}0${body}`;
    return id15 + checksumSuffix(id15);
  }
}
