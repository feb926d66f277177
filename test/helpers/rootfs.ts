import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A small container image assembled from this host's own binaries: no registry, no network. Tests import it
 * with `podman import`; its tag is a hash of the chosen files (path, size, mtime), so each test run builds it at
 * most once and later runs reuse it.
 */
export interface TestImageOptions {
  /** Include node (and npm) for tests that run JavaScript inside. */
  withNode?: boolean;
  /** Include git with its helpers (git-remote-https) for tests that push over HTTPS. */
  withGit?: boolean;
}

/** Programs every test image holds: a shell, coreutils used by the contract suite, curl and socat (the bridge). */
const BASE_PROGRAMS = [
  'sh',
  'bash',
  'cat',
  'ls',
  'env',
  'id',
  'touch',
  'tr',
  'ps',
  'grep',
  'seq',
  'sleep',
  'awk',
  'curl',
  'socat',
  'setsid',
  'nohup',
  'head',
  'tail',
  'echo',
  'mkdir',
  'rm',
  'wc',
  'stat',
  'printf',
  'test',
  'true',
  'false',
  'dd',
  'cp',
  'mv',
  'chmod',
  'sort',
  'uname',
  'kill',
  'find',
  'sed',
  'tee',
  'stty',
  'cut',
  'ln',
  // The system-call escape tests of the driver contract (user namespaces, kernel keyrings).
  'unshare',
  'keyctl',
];
const NODE_PROGRAMS = ['node', 'npm'];
const NODE_TREES = ['/usr/lib/node_modules/npm'];
const GIT_PROGRAMS = ['git'];
const GIT_TREES = ['/usr/lib/git-core', '/usr/share/git-core'];

function findProgram(name: string): string | undefined {
  for (const folder of ['/usr/bin', '/bin', '/usr/sbin', '/usr/local/bin']) {
    const candidate = join(folder, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** The path with its folder resolved (so it lies under /usr on merged-/usr hosts) but the last link kept. */
function canonicalEntry(path: string): string {
  return join(realpathSync(dirname(path)), basename(path));
}

/** Adds a path, and every symlink hop to its final file, to `entries`. */
function addWithLinks(path: string, entries: Set<string>): void {
  let current = canonicalEntry(path);
  for (let hops = 0; hops < 16; hops += 1) {
    if (entries.has(current)) return;
    entries.add(current);
    const stats = lstatSync(current);
    if (!stats.isSymbolicLink()) return;
    current = canonicalEntry(resolve(dirname(current), readlinkSync(current)));
  }
}

async function sharedLibraries(path: string): Promise<string[]> {
  const output = await run('ldd', [path]).then(
    (result) => result.stdout,
    () => '', // scripts and static binaries have no libraries to add
  );
  return [...output.matchAll(/(\/\S+)/g)].map((match) => match[1] as string);
}

async function collectEntries(options: TestImageOptions): Promise<{ files: string[]; trees: string[] }> {
  const programs = [
    ...BASE_PROGRAMS,
    ...(options.withNode ? NODE_PROGRAMS : []),
    ...(options.withGit ? GIT_PROGRAMS : []),
  ];
  const trees = [...(options.withNode ? NODE_TREES : []), ...(options.withGit ? GIT_TREES : [])];
  const entries = new Set<string>();
  const missing: string[] = [];
  for (const name of programs) {
    const path = findProgram(name);
    if (!path) {
      missing.push(name);
      continue;
    }
    addWithLinks(path, entries);
    for (const library of await sharedLibraries(realpathSync(path))) addWithLinks(library, entries);
  }
  if (options.withGit) {
    // git-remote-https and friends link libcurl and more; ldd each helper binary in the tree.
    for (const helper of ['git-remote-https', 'git-remote-http', 'git-http-push'])
      for (const library of await sharedLibraries(`/usr/lib/git-core/${helper}`))
        addWithLinks(library, entries);
  }
  if (missing.length > 0)
    throw new Error(
      `The test image needs these host programs: ${missing.join(', ')}. Install them (apt-get install coreutils procps curl socat${options.withNode ? ' nodejs npm' : ''}${options.withGit ? ' git' : ''}).`,
    );
  for (const tree of trees)
    if (!existsSync(tree)) throw new Error(`The test image needs ${tree} on the host`);
  // A file inside a tree would be archived twice, which image imports refuse.
  const files = [...entries].filter((file) => !trees.some((tree) => file.startsWith(`${tree}/`)));
  return { files: files.sort(), trees };
}

/** Files written into the image itself: who uid 1000 is, and the folders the sandbox mounts over. */
function writeStaging(folder: string): void {
  for (const path of ['etc', 'proc', 'dev', 'sys', 'run/warren', 'etc/warren', 'workspace', 'var/tmp'])
    mkdirSync(join(folder, path), { recursive: true });
  mkdirSync(join(folder, 'tmp'));
  chmodSync(join(folder, 'tmp'), 0o1777);
  mkdirSync(join(folder, 'home/agent'), { recursive: true });
  chmodSync(join(folder, 'home/agent'), 0o700);
  writeFileSync(
    join(folder, 'etc/passwd'),
    'root:x:0:0:root:/root:/usr/sbin/nologin\nagent:x:1000:1000:Warren agent:/home/agent:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  writeFileSync(join(folder, 'etc/group'), 'root:x:0:\nagent:x:1000:\nnogroup:x:65534:\n');
  writeFileSync(join(folder, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  writeFileSync(join(folder, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files\n');
}

function fingerprint(files: string[], trees: string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    const stats = lstatSync(file);
    hash.update(`${file}\0${stats.size}\0${stats.mtimeMs}\n`);
  }
  for (const tree of trees) hash.update(`tree ${tree} ${lstatSync(tree).mtimeMs}\n`);
  hash.update(writeStaging.toString());
  hash.update('archive-v4');
  return hash.digest('hex').slice(0, 16);
}

/** The root-level links of a merged-/usr host (/bin -> usr/bin …), recreated so ELF interpreters resolve. */
function rootLinks(): string[] {
  return ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'].filter((path) => {
    const stats = lstatSync(path, { throwIfNoEntry: false });
    return stats?.isSymbolicLink() ?? false;
  });
}

/** Test images of the same flavour with another fingerprint (host binaries changed since): dropped, best effort. */
async function removeOlderTestImages(engine: string, tag: string): Promise<void> {
  const repository = tag.slice(0, tag.lastIndexOf(':'));
  const listed = await run(engine, [
    'images',
    '--filter',
    `reference=${repository}`,
    '--format',
    '{{.Repository}}:{{.Tag}}',
  ]).then(
    (result) => result.stdout,
    () => '',
  );
  const older = listed.split('\n').filter((line) => line.startsWith(`${repository}:`) && line !== tag);
  if (older.length > 0) await run(engine, ['rmi', ...older]).catch(() => undefined); // one still in use stays
}

/**
 * Builds (once) and returns the tag of a test image for `engine` (podman). Fails with the Debian package to
 * install when a needed host tool is missing.
 */
export async function ensureTestImage(options: TestImageOptions = {}, engine = 'podman'): Promise<string> {
  const installed = await run(engine, ['--version']).then(
    () => true,
    () => false,
  );
  if (!installed)
    throw new Error(
      `${engine} is not installed: apt-get install ${engine === 'docker' ? 'docker.io' : engine}`,
    );
  const { files, trees } = await collectEntries(options);
  const flavour = [options.withNode ? 'node' : '', options.withGit ? 'git' : ''].filter(Boolean).join('-');
  const tag = `localhost/warren-test-rootfs${flavour ? `-${flavour}` : ''}:${fingerprint(files, trees)}`;
  const exists = await run(engine, ['image', 'exists', tag]).then(
    () => true,
    () => false,
  );
  if (exists) return tag;

  const work = mkdtempSync(join(tmpdir(), 'warren-rootfs-'));
  try {
    const staging = join(work, 'staging');
    mkdirSync(staging);
    writeStaging(staging);
    const list = join(work, 'files.txt');
    writeFileSync(list, [...rootLinks(), ...files].join('\n') + '\n');
    const archive = join(work, 'rootfs.tar');
    // Owned by root inside whoever builds it, except HOME, which belongs to the agent (uid 1000).
    const root = ['--owner=0', '--group=0', '--numeric-owner'];
    await run('tar', ['-cf', archive, ...root, '--no-recursion', '-T', list]);
    if (trees.length > 0) await run('tar', ['-rf', archive, ...root, ...trees]);
    await run('tar', ['-rf', archive, ...root, '-C', staging, '--exclude=./home/agent', '.']);
    await run('tar', [
      '-rf',
      archive,
      '--owner=1000',
      '--group=1000',
      '--numeric-owner',
      '-C',
      staging,
      './home/agent',
    ]);
    await run(engine, ['import', '--quiet', archive, tag], { maxBuffer: 16 * 1024 * 1024 });
    await removeOlderTestImages(engine, tag);
    return tag;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `ensureTestImage` for a test file's top level: where podman is missing, every test of the file fails with
 * the install line (from the driver's availability), or, under WARREN_ALLOW_SKIP=1, skips.
 */
export async function testImageForSuite(options: TestImageOptions = {}): Promise<string> {
  return ensureTestImage(options).catch((error: unknown) => {
    if (process.env.WARREN_ALLOW_SKIP === '1') return 'localhost/warren-test-rootfs:unavailable';
    throw error;
  });
}
