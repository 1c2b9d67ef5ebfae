import {
  CrmApiError,
  type CrmApiUsage,
  CrmAuthenticationError,
  CrmConnectionError,
  type CrmError,
  CrmNotFoundError,
  CrmRateLimitError,
} from '../core/errors.js';

/** HubSpot's error body (`{ status: 'error', message, category, subCategory?, context?, policyName? }`). */
export interface HubSpotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  subCategory?: string;
  correlationId?: string;
  context?: Record<string, string[]>;
  errorType?: string;
  policyName?: string;
}

const PROVIDER = 'hubspot';

/** Field names an error body points at (`context.propertyName`), never their values. */
function fieldsOf(body: HubSpotErrorBody): string[] | undefined {
  const names = body.context?.propertyName;
  return names?.length ? [...names] : undefined;
}

/**
 * The one mapping from a failed HubSpot response to the error tree. HubSpot messages can quote
 * the offending value (an email address), so the message names the operation, status and category
 * only; the body stays in `details` (redacted by `toJSON`).
 */
export function toHubSpotError(
  operation: string,
  status: number,
  body: HubSpotErrorBody,
  extra: { retryAfterMs?: number; usage?: CrmApiUsage } = {},
): CrmError {
  const providerCode = body.policyName ?? body.subCategory ?? body.category ?? `HTTP_${status}`;
  const message = `HubSpot ${operation} failed: HTTP ${status}${body.category ? ` ${body.category}` : ''}${
    body.subCategory ? ` (${body.subCategory})` : ''
  }`;
  const fields = fieldsOf(body);
  const options = {
    status,
    providerCode,
    provider: PROVIDER,
    details: { correlationId: body.correlationId, category: body.category },
    ...(fields ? { fields } : {}),
  };
  if (status === 401) return new CrmAuthenticationError(message, options);
  if (status === 404) return new CrmNotFoundError(message, options);
  if (status === 429) {
    return new CrmRateLimitError(message, {
      ...options,
      ...extra,
      // A daily limit resets at the portal's midnight: retrying this run is pointless.
      retryable: body.policyName !== 'DAILY',
    });
  }
  return new CrmApiError(message, { ...options, retryable: status >= 500 });
}

/** A network failure (reset, refused, timeout) as a retryable connection error. */
export function toHubSpotConnectionError(operation: string, cause: unknown): CrmError {
  return new CrmConnectionError(`HubSpot ${operation} failed: no response`, { cause, provider: PROVIDER });
}
