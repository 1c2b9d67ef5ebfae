import type { EmulatorModuleContext } from '../module.js';
import { SoapFault, xmlElement } from '../soap/soap-envelope.js';
import { type DeployJobs, QuickDeployError } from './deploy-jobs.js';
import { readDeployOptions } from './deploy-options.js';
import { type DeployUser, deployResult, deployResultXml } from './deploy-result-format.js';
import type { MetadataTypeRegistry } from './metadata-types.js';
import type { PackageManifest } from './package-archive.js';
import { type RetrieveOutcome, readRetrieveRequest, retrieveResultXml, runRetrieve } from './retrieve-run.js';

/** The org's deploys, retrieves and packages, for the asynchronous Metadata API calls. */
export interface MetadataJobs {
  deploys: DeployJobs;
  retrieves: Map<string, RetrieveOutcome & { date: string }>;
  /** Packages by lower-case name (a deploy whose `package.xml` has a `<fullName>`). */
  packages: Map<string, PackageManifest>;
  registry: MetadataTypeRegistry;
  user: DeployUser;
}

/** `ZipFile` arrives base64-encoded (the WSDL's `xsd:base64Binary`). */
function zipOf(value: unknown): Buffer {
  const text = typeof value === 'string' ? value.replace(/\s+/g, '') : '';
  if (!text || !/^[A-Za-z0-9+/]*={0,2}$/.test(text))
    throw new SoapFault('INVALID_ZIP', 'ZipFile must be a base64-encoded zip file');
  return Buffer.from(text, 'base64');
}

/** An `AsyncResult` of a finished call. */
function asyncResultXml(id: string): string {
  return `<result>${xmlElement('done', true)}${xmlElement('id', id)}${xmlElement('state', 'Completed')}</result>`;
}

/**
 * `deploy`, `checkDeployStatus`, `deployRecentValidation`, `cancelDeploy`, `retrieve`,
 * `checkRetrieveStatus` and `checkStatus` (Metadata API `meta_deploy.htm`, `meta_retrieve.htm`,
 * …): the response content of the operation, or undefined for other operations. Deploys and
 * retrieves finish while they are requested, so their `AsyncResult` is already `done`.
 *
 * @throws {SoapFault} for ids the org does not know and malformed zip files.
 */
export function asyncOperation(
  context: EmulatorModuleContext,
  jobs: MetadataJobs,
  operation: string,
  body: Record<string, unknown>,
): string | undefined {
  const now = (): string => context.clock.now().toISOString();
  const unknownId = (id: string): SoapFault =>
    new SoapFault('INVALID_ID_FIELD', `Invalid Id: ${id} is not the id of a deploy or retrieve of this org`);
  switch (operation) {
    case 'deploy': {
      const record = jobs.deploys.start(zipOf(body.ZipFile), readDeployOptions(body.DeployOptions));
      return asyncResultXml(record.id);
    }
    case 'checkDeployStatus': {
      const id = String(body.asyncProcessId ?? '').trim();
      const record = jobs.deploys.get(id);
      if (!record) throw unknownId(id);
      return deployResultXml(deployResult(record, jobs.user, String(body.includeDetails) === 'true'));
    }
    case 'deployRecentValidation': {
      const id = String(body.validationId ?? '').trim();
      try {
        return `<result>${jobs.deploys.quickDeploy(id).id}</result>`;
      } catch (error) {
        if (error instanceof QuickDeployError) throw new SoapFault('INVALID_ID_FIELD', error.message);
        throw error;
      }
    }
    case 'cancelDeploy': {
      const id = String(body.id ?? body.String ?? '').trim();
      if (!jobs.deploys.get(id)) throw unknownId(id);
      // Already finished: there is nothing left to cancel, which the result's `done` says.
      return `<result>${xmlElement('done', true)}${xmlElement('id', id)}</result>`;
    }
    case 'retrieve': {
      const request = readRetrieveRequest(
        (body.retrieveRequest ?? body.request ?? {}) as Record<string, unknown>,
      );
      const outcome = runRetrieve(request, jobs.registry, jobs.packages, request.apiVersion || '62.0');
      const id = context.ids.next('09S');
      jobs.retrieves.set(id, { ...outcome, date: now() });
      return asyncResultXml(id);
    }
    case 'checkRetrieveStatus': {
      const id = String(body.asyncProcessId ?? body.id ?? '').trim();
      const outcome = jobs.retrieves.get(id);
      if (!outcome) throw unknownId(id);
      return retrieveResultXml(
        id,
        outcome,
        jobs.user,
        outcome.date,
        String(body.includeZip ?? 'true') !== 'false',
      );
    }
    case 'checkStatus': {
      const raw = body.asyncProcessId;
      const ids = (Array.isArray(raw) ? raw : [raw]).map((id) => String(id ?? '').trim());
      return ids
        .map((id) => {
          if (!jobs.deploys.get(id) && !jobs.retrieves.has(id)) throw unknownId(id);
          return asyncResultXml(id);
        })
        .join('');
    }
    default:
      return undefined;
  }
}
