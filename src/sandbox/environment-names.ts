/** The variables the sandbox contract sets; spec.env may add others but never replace these. */
export const PROXY_VARIABLE_NAMES = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'npm_config_proxy',
  'npm_config_https_proxy',
  'GRPC_PROXY',
  'grpc_proxy',
] as const;

export const NO_PROXY_VARIABLE_NAMES = ['NO_PROXY', 'no_proxy'] as const;

export const CA_VARIABLE_NAMES = [
  'SSL_CERT_FILE',
  'NODE_EXTRA_CA_CERTS',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'PIP_CERT',
  'GIT_SSL_CAINFO',
  'CARGO_HTTP_CAINFO',
  'AWS_CA_BUNDLE',
  'DENO_CERT',
  'npm_config_cafile',
] as const;

export const GATEWAY_VARIABLE_NAMES = [
  'ANTHROPIC_BASE_URL',
  'OPENAI_BASE_URL',
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
] as const;

export const IDENTITY_VARIABLE_NAMES = ['IS_SANDBOX', 'WARREN_SESSION', 'HOME', 'USER', 'LOGNAME'] as const;

export const CONTRACT_VARIABLE_NAMES: ReadonlySet<string> = new Set([
  ...PROXY_VARIABLE_NAMES,
  ...NO_PROXY_VARIABLE_NAMES,
  'NODE_USE_ENV_PROXY',
  ...CA_VARIABLE_NAMES,
  ...GATEWAY_VARIABLE_NAMES,
  ...IDENTITY_VARIABLE_NAMES,
]);
