import { asList } from './component-xml.js';
import type { DeployOptions } from './deploy-run.js';

/**
 * `DeployOptions` from a SOAP request (strings) or the REST `deployOptions` JSON. Defaults: no
 * validation only, `rollbackOnError` true [U], and `NoTestRun`, the default test level of a
 * non-production org (Metadata API "Running Tests in a Deployment").
 */
export function readDeployOptions(raw: unknown): DeployOptions {
  const options = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const flag = (key: string, fallback: boolean): boolean => {
    const value = options[key];
    if (value === undefined || value === null || value === '') return fallback;
    return value === true || value === 'true';
  };
  const testLevel =
    typeof options.testLevel === 'string' && options.testLevel.trim()
      ? options.testLevel.trim()
      : 'NoTestRun';
  return {
    checkOnly: flag('checkOnly', false),
    ignoreWarnings: flag('ignoreWarnings', false),
    rollbackOnError: flag('rollbackOnError', true),
    singlePackage: flag('singlePackage', false),
    testLevel,
    runTests: asList(options.runTests)
      .map((name) => String(name).trim())
      .filter((name) => name !== ''),
  };
}
