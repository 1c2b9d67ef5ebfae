import { z } from 'zod';
import { CrmEmailSchema, parseModel } from './models.js';
import type { CrmCallOptions } from './provider.js';

/**
 * Who a privacy request is about. At least one key is required; give every key you know, so
 * each system can find the person however it indexes them (the CRM by email or id, local storage
 * by host id and CRM id).
 */
export interface CrmContactRef {
  /** The person's email address. */
  email?: string;
  /** The host's id of the person (the `externalId` of `CrmContact`). */
  externalId?: string;
  /** The CRM's id of the person's record (Salesforce Contact or Lead id). */
  crmId?: string;
}

const key = z.string().trim().min(1).max(255);

/** Schema of {@link CrmContactRef}: at least one key, unknown keys refused. */
export const CrmContactRefSchema = z
  .strictObject({ email: CrmEmailSchema.optional(), externalId: key.optional(), crmId: key.optional() })
  .refine((ref) => ref.email !== undefined || ref.externalId !== undefined || ref.crmId !== undefined, {
    message: 'needs at least one of email, externalId, crmId',
  });

/**
 * Validate a {@link CrmContactRef}.
 * @throws CrmDataConversionError naming the bad key, or saying that no key was given.
 */
export function parseContactRef(ref: unknown): CrmContactRef {
  const parsed = parseModel(CrmContactRefSchema, ref, 'contact reference');
  const out: CrmContactRef = {};
  if (parsed.email !== undefined) out.email = parsed.email;
  if (parsed.externalId !== undefined) out.externalId = parsed.externalId;
  if (parsed.crmId !== undefined) out.crmId = parsed.crmId;
  return out;
}

/** Options of {@link CrmPrivacyOperations.forgetContact}. */
export interface CrmForgetOptions extends CrmCallOptions {
  /**
   * Why the person is forgotten (kept in the audit entry, so it MUST NOT contain personal data),
   * e.g. `gdpr_erasure_request`.
   * @default 'erasure_request'
   */
  reason?: string;
}

/**
 * What a CRM did to erase a person. Holds counts and action names only, never record values or
 * ids, so it can go into an audit entry as it is.
 */
export interface CrmForgetResult {
  /** Provider name, e.g. `salesforce`. */
  provider: string;
  /** `erased`: something was found and erased; `not_found`: the CRM holds nothing for the ref. */
  outcome: 'erased' | 'not_found';
  /** Records deleted per CRM object, e.g. `{ Contact: 1, Lead: 0 }`. */
  deleted: Record<string, number>;
  /**
   * Other actions taken, by name, e.g. `individual_flagged` (Salesforce `Individual.ShouldForget`
   * set) or `gdpr_delete` (HubSpot).
   */
  actions: string[];
}

/** Plain JSON of everything a CRM holds about a person (data portability). */
export interface CrmContactExport {
  /** Provider name, e.g. `salesforce`. */
  provider: string;
  /** ISO-8601 time of the export. */
  exportedAt: string;
  /**
   * Records by CRM object (Salesforce: `Contact`, `Lead`, `Task`, `CampaignMember`, `Individual`),
   * each as the CRM returned it, with JSON-safe values (dates as strings). An object with no
   * record has an empty array.
   */
  records: Record<string, Array<Record<string, unknown>>>;
}

/**
 * Erasure and export in the CRM (`CrmFeature` `privacy`). The methods are optional on
 * `CrmProvider` so providers written before them keep compiling; a provider that has them and
 * answers `supportsFeature('privacy') === true` MUST implement both, and MUST throw
 * `CrmUnsupportedFeatureError` from them otherwise. Callers check `supportsFeature('privacy')`.
 */
export interface CrmPrivacyOperations {
  /**
   * Erase the person in the CRM the way the CRM defines erasure (Salesforce: delete the Contact
   * and Lead records and flag the `Individual`; HubSpot: GDPR delete). Idempotent: forgetting a
   * person the CRM no longer holds resolves with `outcome: 'not_found'`.
   * @throws CrmDataConversionError when `ref` names no key.
   * @throws CrmUnsupportedFeatureError when the provider has no privacy support.
   */
  forgetContact(ref: CrmContactRef, options?: CrmForgetOptions): Promise<CrmForgetResult>;
  /**
   * Everything the CRM holds about the person, as plain JSON.
   * @throws CrmDataConversionError when `ref` names no key.
   * @throws CrmUnsupportedFeatureError when the provider has no privacy support.
   */
  exportContactData(ref: CrmContactRef, options?: CrmCallOptions): Promise<CrmContactExport>;
}
