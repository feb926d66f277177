import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The folder that holds Warren's database, CA, config and caches. */
export interface WarrenHome {
  root: string;
  databasePath: string;
  configPath: string;
  caDir: string;
  runDir: string;
  cachesDir: string;
  sessionsDir: string;
}

/** WARREN_HOME, else $XDG_DATA_HOME/warren, else ~/.local/share/warren. */
export function resolveHomePath(env: NodeJS.ProcessEnv): string {
  if (env.WARREN_HOME) return resolve(env.WARREN_HOME);
  if (env.XDG_DATA_HOME) return resolve(env.XDG_DATA_HOME, 'warren');
  return join(homedir(), '.local', 'share', 'warren');
}

function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by umask and ignored for existing folders: set it explicitly.
  if ((statSync(path).mode & 0o777) !== 0o700) chmodSync(path, 0o700);
}

/** Creates the home folder tree (mode 0700) if needed and returns its paths. */
export function openHome(env: NodeJS.ProcessEnv): WarrenHome {
  const root = resolveHomePath(env);
  const home: WarrenHome = {
    root,
    databasePath: join(root, 'warren.db'),
    configPath: join(root, 'warren.yaml'),
    caDir: join(root, 'ca'),
    runDir: join(root, 'run'),
    cachesDir: join(root, 'caches'),
    sessionsDir: join(root, 'sessions'),
  };
  for (const dir of [root, home.caDir, home.runDir, home.sessionsDir]) ensurePrivateDir(dir);
  return home;
}
