import { applyIdentity, vendorOfModel } from '../identity/index.js';
import type { ApiProtocol, ModelRequest, ProtocolAdapter, UpstreamRequest } from '../protocol/types.js';
import type { Deployment } from '../router.js';
import { fitReasoning } from './fit-reasoning.js';

export interface PreparedUpstream {
  upstream: UpstreamRequest;
  /** What the translation changed or left out (settings without an equivalent upstream). */
  notes: string[];
  /** Other vendors' identity claims still addressed to the model (see identity/claims.ts). */
  identityClaims: string[];
}

/**
 * The caller's request as one deployment gets it: reasoning settings fitted to what the upstream takes,
 * identity lines rewritten for the real model (never for Anthropic upstreams, which get the prompt as the
 * caller wrote it), then the upstream protocol's body.
 */
export function prepareUpstream(
  request: ModelRequest,
  callerProtocol: ApiProtocol,
  deployment: Deployment,
  adapter: ProtocolAdapter,
): PreparedUpstream {
  const notes: string[] = [];
  const fitted = fitReasoning(request, callerProtocol, deployment, notes);
  const identity = applyIdentity(fitted, {
    model: deployment.upstreamModel,
    vendor: vendorOfModel(deployment.provider.name, deployment.upstreamModel),
    setting: deployment.entry.identity,
    statement: deployment.entry.identityStatement,
    rewrite: !deployment.provider.isAnthropic,
  });
  const upstream = adapter.buildUpstreamRequest(identity.request, deployment.upstreamModel);
  if (upstream.notes) notes.push(...upstream.notes);
  return { upstream, notes, identityClaims: identity.claims };
}
