/**
 * A Metadata API error about one component: a `SaveResult.errors` entry of the CRUD calls, or a
 * `DeployMessage` with `problemType: Error` in a deploy (`statusCode` is then not sent).
 */
export class ComponentError extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
  ) {
    super(message);
  }
}
