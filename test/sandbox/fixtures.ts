import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, type TestContext } from 'vitest';
import type { DriverAvailability, LaunchPlan, SandboxDriver, SandboxSpec } from '../../src/sandbox/index.js';

/** A throw-away host layout per test: workspace, a fake host home with a secret, a proxy socket. */
export interface SandboxFixture {
  root: string;
  workspace: string;
  hostHome: string;
  secretPath: string;
  secret: string;
  proxySocketPath: string;
  /** Requests that arrived at the fake proxy, in order. */
  proxyRequests: { method: string; url: string; host: string | undefined }[];
  spec(command: string[], overrides?: Partial<SandboxSpec>): SandboxSpec;
  dispose(): Promise<void>;
}

export function uniqueMarker(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export async function createSandboxFixture(): Promise<SandboxFixture> {
  const root = mkdtempSync(join(tmpdir(), 'warren-sandbox-test-'));
  const workspace = join(root, 'workspace');
  const hostHome = join(root, 'host-home');
  mkdirSync(workspace);
  mkdirSync(join(hostHome, '.ssh'), { recursive: true });
  const secret = uniqueMarker('host-secret');
  const secretPath = join(hostHome, '.ssh', 'id_ed25519');
  writeFileSync(secretPath, `${secret}\n`, { mode: 0o600 });
  const proxySocketPath = join(root, 'proxy.sock');
  const proxyRequests: SandboxFixture['proxyRequests'] = [];
  const proxy: Server = createServer((request: IncomingMessage, response) => {
    proxyRequests.push({ method: request.method ?? '', url: request.url ?? '', host: request.headers.host });
    response.setHeader('content-type', 'text/plain');
    response.end(`proxied ${request.method} ${request.url}\n`);
  });
  await new Promise<void>((resolve) => proxy.listen(proxySocketPath, resolve));
  const sessionId = uniqueMarker('test');
  return {
    root,
    workspace,
    hostHome,
    secretPath,
    secret,
    proxySocketPath,
    proxyRequests,
    spec: (command, overrides = {}) => ({
      sessionId,
      workspace,
      proxy: { socketPath: proxySocketPath },
      gateway: { token: 'warren-session-token' },
      command,
      ...overrides,
    }),
    dispose: async () => {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Spawns a plan with extra variables given to the engine process, to prove they do not reach inside. */
export async function runPlanWithHostEnv(
  plan: LaunchPlan,
  hostEnv: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(plan.file, plan.args, {
    env: { ...hostEnv, ...plan.env },
    cwd: plan.cwd ?? '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // As runSandboxed: a process that escaped the sandbox must not hold the test open through the pipes.
  const status = await new Promise<number | null>((resolve) => {
    child.on('close', (code) => resolve(code));
    child.on('exit', (code) => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve(code);
      }, 500);
    });
  });
  await plan.cleanup();
  return { status, stdout, stderr };
}

export interface DriverSuite {
  /** This test's fresh host layout. */
  readonly fixture: SandboxFixture;
  /** Fails the test with what to install when the driver is unavailable (skips under WARREN_ALLOW_SKIP=1). */
  require(context: TestContext): void;
}

/** The hooks every driver-specific suite needs: the driver's availability once, a fresh fixture per test. */
export function useDriverSuite(createDriver: () => SandboxDriver): DriverSuite {
  let availability: DriverAvailability;
  let fixture: SandboxFixture | undefined;
  beforeAll(async () => {
    availability = await createDriver().available();
  });
  beforeEach(async () => {
    fixture = await createSandboxFixture();
  });
  afterEach(async () => {
    await fixture?.dispose();
    fixture = undefined;
  });
  return {
    get fixture() {
      if (!fixture) throw new Error('the sandbox fixture exists only while a test runs');
      return fixture;
    },
    require(context) {
      if (availability.ok) return;
      if (process.env.WARREN_ALLOW_SKIP === '1') context.skip();
      throw new Error(`${availability.reason}: ${availability.install}`);
    },
  };
}
