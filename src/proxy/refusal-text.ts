/**
 * Text that the agent inside the sandbox reads when Warren refuses or fails a request.
 * Kept together so that the wording stays consistent and easy to review.
 */

/** `METHOD url` as the texts name it: a URL may be as long as 64 KiB of request head, a text need not be. */
function shown(what: string): string {
  return what.length <= 600 ? what : `${what.slice(0, 600)}… (${what.length - 600} more characters)`;
}

export function refusalText(what: string, reason: string, remedy: string): string {
  return (
    `Warren refused ${shown(what)} because ${reason}.\n` +
    `This sandbox reaches the network only through Warren's egress proxy, which follows the user's host policy.\n` +
    `To allow it, ${remedy}.\n`
  );
}

export function upstreamFailureText(what: string, problem: string): string {
  return `Warren could not complete ${shown(what)}: ${problem}.\nThe destination was allowed; the failure happened upstream.\n`;
}

export function badRequestText(problem: string): string {
  return `Warren's egress proxy could not handle this request: ${problem}.\n`;
}

export function noGatewayText(): string {
  return (
    "This is Warren's egress proxy. Requests without a proxy target (origin-form, like POST /v1/messages) " +
    'go to the model gateway, and no gateway is configured on this proxy.\n' +
    'Use it as an HTTP proxy instead (HTTP_PROXY / HTTPS_PROXY), with absolute URLs or CONNECT.\n'
  );
}

export function notHttpInTunnelText(target: string): string {
  return (
    `Warren refused the tunnel to ${target}: the client spoke neither TLS nor HTTP inside it. ` +
    'Warren inspects all traffic, so other protocols cannot pass through its proxy.\n'
  );
}
