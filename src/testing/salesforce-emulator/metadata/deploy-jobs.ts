import { type IdGenerator, toId18 } from '../ids.js';
import {
  applyValidated,
  type DeployEnvironment,
  type DeployOptions,
  type DeployOutcome,
  runDeploy,
} from './deploy-run.js';
import type { PackageManifest } from './package-archive.js';

/** One deploy (`0Af…`) as `checkDeployStatus` and `GET /metadata/deployRequest/{id}` report it. */
export interface DeployRecord {
  id: string;
  options: DeployOptions;
  outcome: DeployOutcome;
  createdDate: string;
  completedDate: string;
  /** Set on a quick deploy: the validation it deployed. */
  validatedDeployRequestId: string | null;
  /** A validation that a quick deploy has used (it cannot be deployed twice). */
  quickDeployed: boolean;
}

/** Why a quick deploy was refused. */
export class QuickDeployError extends Error {}

/**
 * The org's deploys. A deploy runs to completion when it is requested; its `AsyncResult` still
 * says `Queued`, and the first status check reports it done (clients poll the same way).
 */
export class DeployJobs {
  private readonly deploys = new Map<string, DeployRecord>();

  constructor(
    private readonly ids: IdGenerator,
    private readonly environment: DeployEnvironment,
    private readonly onPackage: (manifest: PackageManifest) => void,
  ) {}

  start(zip: Buffer, options: DeployOptions): DeployRecord {
    const createdDate = this.environment.now();
    const outcome = runDeploy(zip, options, this.environment);
    if (!options.checkOnly && outcome.status !== 'Failed')
      for (const manifest of outcome.packages) this.onPackage(manifest);
    const record: DeployRecord = {
      id: this.ids.next('0Af'),
      options,
      outcome,
      createdDate,
      completedDate: this.environment.now(),
      validatedDeployRequestId: null,
      quickDeployed: false,
    };
    this.deploys.set(record.id, record);
    return record;
  }

  /** A deploy by its 15- or 18-character id. */
  get(id: string): DeployRecord | undefined {
    return this.deploys.get(toId18(id) ?? id);
  }

  /**
   * `deployRecentValidation`: deploys the components of a succeeded validation (`checkOnly`)
   * without validating again; a new deploy id.
   *
   * @throws {QuickDeployError} when the id is no succeeded validation or was deployed already.
   */
  quickDeploy(validationId: string): DeployRecord {
    const validation = this.get(validationId);
    if (
      !validation?.options.checkOnly ||
      validation.outcome.status !== 'Succeeded' ||
      validation.quickDeployed
    )
      throw new QuickDeployError(
        `The validation ${validationId} is not a succeeded, not yet deployed validation (checkOnly deploy)`,
      );
    validation.quickDeployed = true;
    const createdDate = this.environment.now();
    const failures = applyValidated(validation.outcome.validated, createdDate);
    const failed = new Set(failures.map((f) => `${f.componentType}:${f.fullName}`));
    const successes = validation.outcome.successes
      .filter((m) => !failed.has(`${m.componentType}:${m.fullName}`))
      .map((message) => ({ ...message, changed: true }));
    const record: DeployRecord = {
      id: this.ids.next('0Af'),
      options: { ...validation.options, checkOnly: false },
      outcome: {
        ...validation.outcome,
        status: failures.length > 0 ? 'SucceededPartial' : 'Succeeded',
        successes,
        failures,
        numberComponentErrors: failures.length,
        numberComponentsDeployed: validation.outcome.numberComponentsDeployed - failures.length,
      },
      createdDate,
      completedDate: createdDate,
      validatedDeployRequestId: validation.id,
      quickDeployed: false,
    };
    for (const manifest of record.outcome.packages) this.onPackage(manifest);
    this.deploys.set(record.id, record);
    return record;
  }

  clear(): void {
    this.deploys.clear();
  }
}
