import { z } from 'zod';
import { WarrenError } from '../../errors/index.js';
import type { Authenticated, ClientFacts } from '../auth/auth-service.js';
import { clientAddress } from '../http/origin.js';
import { readJson, sendJson } from '../http/respond.js';
import type { RouteContext } from '../http/router.js';
import type { ApiParts, ApiRoute } from './context.js';

const passwordSchema = z.string().min(1).max(1024);

function clientOf(context: RouteContext<unknown>): ClientFacts {
  return { address: clientAddress(context.request), userAgent: context.request.headers['user-agent'] ?? '' };
}

function describeLogin(auth: Authenticated) {
  return { user: auth.user.name, loginId: auth.login.id.slice(0, 16), csrfToken: auth.login.csrfToken };
}

export function authRoutes(parts: ApiParts): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/api/setup',
      access: 'public',
      handle: ({ response }) => sendJson(response, 200, { needed: parts.auth.needsSetup() }),
    },
    {
      method: 'POST',
      path: '/api/setup',
      access: 'origin',
      async handle(context) {
        const body = await readJson(
          context.request,
          z.object({ token: z.string().min(1).max(200), password: passwordSchema }),
        );
        const { cookie, authenticated } = await parts.auth.completeSetup(
          body.token,
          body.password,
          clientOf(context),
        );
        sendJson(context.response, 200, describeLogin(authenticated), { 'Set-Cookie': cookie });
      },
    },
    {
      method: 'POST',
      path: '/api/login',
      access: 'origin',
      async handle(context) {
        const body = await readJson(context.request, z.object({ password: passwordSchema }));
        const { cookie, authenticated } = await parts.auth.login(body.password, clientOf(context));
        sendJson(context.response, 200, describeLogin(authenticated), { 'Set-Cookie': cookie });
      },
    },
    {
      method: 'POST',
      path: '/api/logout',
      access: 'login',
      handle({ response, auth }) {
        sendJson(response, 200, { ok: true }, { 'Set-Cookie': parts.auth.logout(auth.login.id) });
      },
    },
    {
      method: 'GET',
      path: '/api/me',
      access: 'login',
      handle: ({ response, auth }) => sendJson(response, 200, describeLogin(auth)),
    },
    {
      method: 'GET',
      path: '/api/logins',
      access: 'login',
      handle({ response, auth }) {
        const logins = parts.auth.listLogins(auth.user.id).map((login) => ({
          id: login.id.slice(0, 16),
          current: login.id === auth.login.id,
          createdAt: login.createdAt,
          lastSeenAt: login.lastSeenAt,
          expiresAt: login.expiresAt,
          userAgent: login.userAgent,
          address: login.address,
        }));
        sendJson(response, 200, { logins });
      },
    },
    {
      method: 'DELETE',
      path: '/api/logins/:id',
      access: 'login',
      handle({ response, auth, params }) {
        // Logins are named by a prefix of their (hashed) id; the full hash never leaves the server.
        const target = parts.auth
          .listLogins(auth.user.id)
          .find((login) => login.id.startsWith(params.id ?? '-'));
        if (!target || (params.id ?? '').length < 16) throw new WarrenError('not-found', 'no such login');
        parts.auth.revokeLogin(auth.user.id, target.id);
        sendJson(response, 200, { ok: true });
      },
    },
    {
      method: 'POST',
      path: '/api/logins/revoke-others',
      access: 'login',
      handle({ response, auth }) {
        sendJson(response, 200, { revoked: parts.auth.revokeOtherLogins(auth.user.id, auth.login.id) });
      },
    },
  ];
}
