import { parseVersionSegment } from '../versions.js';
import type { EmulatorHttpMethod, EmulatorRoute } from './types.js';

interface CompiledRoute {
  route: EmulatorRoute;
  name: string;
  segments: string[];
  rest: boolean;
}

/** A matched route with its decoded parameters. */
export interface RouteMatch {
  route: EmulatorRoute;
  name: string;
  params: Record<string, string>;
}

/**
 * The emulator's route table. Modules (REST, OAuth, Bulk 2.0, SOAP) register handlers; the first
 * registered route whose pattern and method match wins, so register specific patterns first.
 */
export class EmulatorRouter {
  private readonly routes: CompiledRoute[] = [];

  /** Adds a route. */
  add(route: EmulatorRoute): void {
    let segments = route.pattern.split('/').filter((s) => s.length > 0);
    const rest = segments[segments.length - 1] === '*';
    if (rest) segments = segments.slice(0, -1);
    this.routes.push({ route, name: route.name ?? `${route.method} ${route.pattern}`, segments, rest });
  }

  /**
   * Finds the route for a request. `pathExists` is true when some route matched the path with
   * another method (the caller then answers 405 rather than 404); `allowed` lists those methods
   * (plus `HEAD` when `GET` is among them) for the 405's "Allowed are …".
   */
  match(
    method: EmulatorHttpMethod,
    path: string,
  ): { match?: RouteMatch; pathExists: boolean; allowed: EmulatorHttpMethod[] } {
    const parts = path.split('/').filter((s) => s.length > 0);
    const allowed = new Set<EmulatorHttpMethod>();
    for (const compiled of this.routes) {
      const params = matchSegments(compiled, parts);
      if (!params) continue;
      const routeMethod = compiled.route.method;
      if (routeMethod === method || (method === 'HEAD' && routeMethod === 'GET')) {
        return {
          match: { route: compiled.route, name: compiled.name, params },
          pathExists: true,
          allowed: [],
        };
      }
      allowed.add(routeMethod);
      if (routeMethod === 'GET') allowed.add('HEAD');
    }
    return { pathExists: allowed.size > 0, allowed: [...allowed] };
  }
}

function matchSegments(compiled: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  const { segments, rest } = compiled;
  if (rest ? parts.length < segments.length : parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    const part = parts[i] as string;
    if (segment.startsWith(':')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(part);
      } catch {
        return undefined;
      }
      if (segment === ':version' && parseVersionSegment(decoded) === undefined) return undefined;
      params[segment.slice(1)] = decoded;
    } else if (segment !== part) {
      return undefined;
    }
  }
  if (rest) params['*'] = parts.slice(segments.length).join('/');
  return params;
}
