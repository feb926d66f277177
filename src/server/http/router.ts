import type { IncomingMessage, ServerResponse } from 'node:http';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Who may call a route. `public`: anyone. `login`: a valid login session; for state-changing methods
 * also the CSRF token. `origin`: anyone whose request comes from our own origin (login, setup).
 */
export type RouteAccess = 'public' | 'origin' | 'login';

export interface RouteContext<Auth> {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** Set for `login` routes. */
  auth: Auth;
}

export interface Route<Auth> {
  method: HttpMethod;
  /** Like `/api/sessions/:id/flows`; `:name` matches one path segment. */
  path: string;
  access: RouteAccess;
  handle(context: RouteContext<Auth>): Promise<void> | void;
}

export interface RouteMatch<Auth> {
  route: Route<Auth>;
  params: Record<string, string>;
}

/** Routes are data; matching is a pure function of the route list, the method and the path. */
export function matchRoute<Auth>(
  routes: readonly Route<Auth>[],
  method: string,
  pathname: string,
): RouteMatch<Auth> | 'method-not-allowed' | undefined {
  const segments = pathname.split('/');
  let pathMatched = false;
  for (const route of routes) {
    const pattern = route.path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let matches = true;
    for (let index = 0; index < pattern.length && matches; index += 1) {
      const part = pattern[index] as string;
      const segment = segments[index] as string;
      if (part.startsWith(':')) {
        if (segment === '') matches = false;
        else {
          try {
            params[part.slice(1)] = decodeURIComponent(segment);
          } catch {
            matches = false;
          }
        }
      } else if (part !== segment) matches = false;
    }
    if (!matches) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  return pathMatched ? 'method-not-allowed' : undefined;
}
