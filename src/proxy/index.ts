export type {
  CapturedBody,
  FlowPolicy,
  FlowRecord,
  FlowRecording,
  FlowSink,
  FlowTimings,
  FlowTls,
  Header,
} from './flow.js';
export { createCertificateAuthority } from './ca.js';
export type { CertificateAuthority, CertificateAuthorityOptions, LeafCertificate } from './ca.js';
export { createEgressProxy } from './proxy.js';
export type { EgressProxy, ListenTarget, ProxyListener } from './proxy.js';
export type { EgressProxyOptions, GatewayHandler, ProxyLogger, ProxySession } from './context.js';
export type { LookupFunction } from './decide.js';
export {
  compilePolicy,
  compileRule,
  decide,
  decideByName,
  explainRule,
  policyFromArguments,
} from './policy.js';
export type { CompiledRule, HostPolicy, HostRule, PolicyDecision } from './policy.js';
export { GATEWAY_HOSTNAME } from './target.js';
export { isSecretHeader, redactRawHeaders } from './redact.js';
export { flowsToHar } from './har.js';
export type { Har, HarEntry } from './har.js';
export { validateHar } from './har-validate.js';
export { createDownloadCache } from './cache.js';
export type { DownloadCache, DownloadCacheOptions } from './cache.js';
export { downloadCacheRuleFor, IMMUTABLE_DOWNLOAD_RULES } from './cache-rules.js';
export type { DownloadCacheRule } from './cache-rules.js';
export type { BodySink, ForwardHook, HookDecision, HookExchange, HookResponse } from './hooks.js';
export { createSecretSwap, secretAllowedFor } from './secrets.js';
export type { SecretSwap } from './secrets.js';
export { loadSecretValues, resolveSecretDefinitions, SECRET_PRESETS } from './secrets-definitions.js';
export type { LoadedSecret, SecretDefinition, SecretEntry, SecretHow } from './secrets-definitions.js';
