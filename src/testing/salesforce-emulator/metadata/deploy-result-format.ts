import { xmlElement } from '../soap/soap-envelope.js';
import type { DeployRecord } from './deploy-jobs.js';

/** Who the emulator says ran every deploy. */
export interface DeployUser {
  id: string;
  name: string;
}

/**
 * A `DeployResult` (Metadata API `meta_deployresult.htm`) as plain values, in the order of the
 * WSDL; `details` only when asked for (`includeDetails`).
 */
export function deployResult(
  record: DeployRecord,
  user: DeployUser,
  includeDetails: boolean,
): Record<string, unknown> {
  const { outcome, options } = record;
  const result: Record<string, unknown> = {
    canceledBy: null,
    canceledByName: null,
    checkOnly: options.checkOnly,
    completedDate: record.completedDate,
    createdBy: user.id,
    createdByName: user.name,
    createdDate: record.createdDate,
    details: includeDetails
      ? {
          componentFailures: outcome.failures,
          componentSuccesses: outcome.successes,
          runTestResult: {
            codeCoverage: [],
            codeCoverageWarnings: [],
            failures: [],
            flowCoverage: [],
            flowCoverageWarnings: [],
            numFailures: 0,
            numTestsRun: 0,
            successes: [],
            totalTime: 0,
          },
        }
      : null,
    done: true,
    errorMessage: outcome.errorMessage,
    errorStatusCode: outcome.errorStatusCode,
    id: record.id,
    ignoreWarnings: options.ignoreWarnings,
    lastModifiedDate: record.completedDate,
    numberComponentErrors: outcome.numberComponentErrors,
    numberComponentsDeployed: outcome.numberComponentsDeployed,
    numberComponentsTotal: outcome.numberComponentsTotal,
    numberTestErrors: 0,
    numberTestsCompleted: 0,
    numberTestsTotal: 0,
    rollbackOnError: options.rollbackOnError,
    runTestsEnabled: outcome.runTestsEnabled,
    startDate: record.createdDate,
    stateDetail: null,
    status: outcome.status,
    success: outcome.status !== 'Failed',
  };
  return result;
}

/** The SOAP form: `<result>` of `checkDeployStatus`. */
export function deployResultXml(result: Record<string, unknown>): string {
  return `<result>${valueXml(result)}</result>`;
}

function valueXml(record: Record<string, unknown>): string {
  let xml = '';
  for (const [key, value] of Object.entries(record)) {
    if (value === null || value === undefined) {
      // Optional elements are left out, as Salesforce does (`details` without includeDetails).
      continue;
    }
    if (Array.isArray(value)) {
      for (const item of value)
        xml +=
          typeof item === 'object' && item !== null
            ? `<${key}>${valueXml(item as Record<string, unknown>)}</${key}>`
            : xmlElement(key, String(item));
      continue;
    }
    if (typeof value === 'object') xml += `<${key}>${valueXml(value as Record<string, unknown>)}</${key}>`;
    else xml += xmlElement(key, typeof value === 'number' ? String(value) : (value as string | boolean));
  }
  return xml;
}
