/** A per-record error as sObject Collections report it (note `statusCode`, not `errorCode`). */
export interface EmulatorSaveError {
  statusCode: string;
  message: string;
  fields: string[];
}

/** Result of one record write, shaped like Salesforce's SaveResult / UpsertResult. */
export interface EmulatorSaveResult {
  id?: string;
  success: boolean;
  errors: EmulatorSaveError[];
  /** Upsert only: whether the record was inserted. */
  created?: boolean;
}

/**
 * Thrown inside the store when one record cannot be written; becomes a per-record error
 * (collections, Bulk) or a single-record REST error body.
 */
export class RecordFailure extends Error {
  override readonly name = 'RecordFailure';

  /**
   * @param statusCode Salesforce status code, e.g. `REQUIRED_FIELD_MISSING`.
   * @param httpStatus status a single-record REST call answers with.
   * @param matchingIds for `MULTIPLE_CHOICES` upserts: ids matching the external id.
   */
  constructor(
    readonly statusCode: string,
    message: string,
    readonly fields: string[] = [],
    readonly httpStatus = 400,
    readonly matchingIds: string[] = [],
  ) {
    super(message);
  }

  /**
   * Upsert only: the key matched no record, so the write was an insert. Salesforce (API ≥ 46)
   * reports `created: true` for such a row even when it fails or is rolled back.
   */
  wouldCreate = false;

  /** The collection-style error object. */
  toSaveError(): EmulatorSaveError {
    return { statusCode: this.statusCode, message: this.message, fields: this.fields };
  }
}
