import { EmulatorHttpError, notFound } from '../http/errors.js';
import type { EmulatorRequestContext } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';
import { type DeployJobs, type DeployRecord, QuickDeployError } from './deploy-jobs.js';
import { readDeployOptions } from './deploy-options.js';
import { type DeployUser, deployResult } from './deploy-result-format.js';

/**
 * The REST deploy resource (Metadata API "Deploy Metadata with Apex Testing Using REST"):
 * `POST /services/data/vXX.X/metadata/deployRequest` with a multipart body (a JSON part
 * `{deployOptions}` — named `json`, or `entity_content` as jsforce sends it — and the zip as part
 * `file`), or JSON `{validatedDeployRequestId}` for a quick deploy; `GET …/deployRequest/{id}`
 * (`?includeDetails=true`) reports it. Both answer `{id, validatedDeployRequestId, deployOptions,
 * deployResult}`.
 */
export function registerDeployRequestRoutes(
  context: EmulatorModuleContext,
  deploys: DeployJobs,
  user: DeployUser,
): void {
  const body = (record: DeployRecord, includeDetails: boolean, request: EmulatorRequestContext) => ({
    id: record.id,
    validatedDeployRequestId: record.validatedDeployRequestId,
    deployOptions: {
      allowMissingFiles: false,
      autoUpdatePackage: false,
      checkOnly: record.options.checkOnly,
      ignoreWarnings: record.options.ignoreWarnings,
      performRetrieve: false,
      purgeOnDelete: false,
      rollbackOnError: record.options.rollbackOnError,
      runTests: record.options.runTests,
      singlePackage: record.options.singlePackage,
      testLevel: record.options.testLevel,
    },
    deployResult: deployResult(record, user, includeDetails),
    url: `${request.baseUrl}/services/data/${request.versionSegment}/metadata/deployRequest/${record.id}`,
  });
  context.router.add({
    method: 'POST',
    pattern: '/services/data/:version/metadata/deployRequest',
    kind: 'api',
    handler: async (request) => {
      const contentType = String(request.headers['content-type'] ?? '').toLowerCase();
      if (!contentType.startsWith('multipart/form-data')) {
        const json = (await request.json()) as { validatedDeployRequestId?: unknown } | null;
        const validationId =
          typeof json?.validatedDeployRequestId === 'string' ? json.validatedDeployRequestId : '';
        if (!validationId)
          throw new EmulatorHttpError(
            400,
            'INVALID_INPUT',
            'Send the zip as multipart/form-data (parts json and file), or JSON {validatedDeployRequestId}',
          );
        try {
          return { status: 201, body: body(deploys.quickDeploy(validationId), false, request) };
        } catch (error) {
          if (error instanceof QuickDeployError)
            throw new EmulatorHttpError(400, 'INVALID_ID_FIELD', error.message);
          throw error;
        }
      }
      let form: FormData;
      try {
        form = await new Response(new Uint8Array(await request.body()), {
          headers: { 'content-type': String(request.headers['content-type']) },
        }).formData();
      } catch {
        throw new EmulatorHttpError(
          400,
          'JSON_PARSER_ERROR',
          'The multipart request body could not be parsed',
        );
      }
      let options: unknown;
      let zip: Buffer | undefined;
      for (const [name, part] of form.entries()) {
        if (
          typeof part === 'string' ||
          part.type.startsWith('application/json') ||
          name === 'json' ||
          name === 'entity_content'
        ) {
          const text = typeof part === 'string' ? part : await part.text();
          try {
            options = (JSON.parse(text) as { deployOptions?: unknown }).deployOptions;
          } catch {
            throw new EmulatorHttpError(400, 'JSON_PARSER_ERROR', `The part ${name} is not JSON`);
          }
        } else zip = Buffer.from(await part.arrayBuffer());
      }
      if (!zip) throw new EmulatorHttpError(400, 'INVALID_INPUT', 'The request has no zip file part (file)');
      return { status: 201, body: body(deploys.start(zip, readDeployOptions(options)), false, request) };
    },
  });
  context.router.add({
    method: 'GET',
    pattern: '/services/data/:version/metadata/deployRequest/:id',
    kind: 'api',
    handler: (request) => {
      const record = deploys.get(request.params.id ?? '');
      if (!record) throw notFound();
      return { status: 200, body: body(record, request.query.get('includeDetails') === 'true', request) };
    },
  });
}
