/**
 * Errors a handler throws to answer with a Salesforce REST error body
 * (`[{"message","errorCode","fields"}]`), as listed in "Status Codes and Error Responses".
 */
export class EmulatorHttpError extends Error {
  override readonly name = 'EmulatorHttpError';

  /**
   * @param status HTTP status to answer with.
   * @param errorCode Salesforce error code, e.g. `NOT_FOUND`.
   * @param message Salesforce message text.
   * @param fields Field names the error concerns; omitted from the body when `undefined`.
   */
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
  }

  /** The JSON array Salesforce sends for this error. */
  toBody(): Array<{ message: string; errorCode: string; fields?: string[] }> {
    const entry: { message: string; errorCode: string; fields?: string[] } = {
      message: this.message,
      errorCode: this.errorCode,
    };
    if (this.fields !== undefined) entry.fields = this.fields;
    return [entry];
  }
}

/** An OAuth endpoint error: `{"error","error_description"}` with status 400 unless given. */
export class EmulatorOAuthError extends Error {
  override readonly name = 'EmulatorOAuthError';

  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

/** 404 `NOT_FOUND` "The requested resource does not exist". */
export function notFound(): EmulatorHttpError {
  return new EmulatorHttpError(404, 'NOT_FOUND', 'The requested resource does not exist');
}
