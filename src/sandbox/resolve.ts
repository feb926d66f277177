import { WarrenError } from '../errors/index.js';
import type { SandboxDriver } from './driver.js';
import { createBwrapDriver, type BwrapDriverOptions } from './drivers/bwrap/bwrap-driver.js';
import { createOciDriver, type OciDriverOptions } from './drivers/oci/index.js';

export interface DriverOptions {
  bwrap?: BwrapDriverOptions;
  /** Options of the podman and docker drivers (the engine is chosen by the driver name). */
  oci?: Omit<OciDriverOptions, 'engine'>;
}

const DRIVER_FACTORIES: Record<string, (options: DriverOptions) => SandboxDriver> = {
  bwrap: (options) => createBwrapDriver(options.bwrap),
  podman: (options) => createOciDriver({ ...options.oci, engine: 'podman' }),
  docker: (options) => createOciDriver({ ...options.oci, engine: 'docker' }),
};

export const DRIVER_NAMES = Object.keys(DRIVER_FACTORIES);

/** The driver named in config, checked to be usable on this host; refuses with what to install otherwise. */
export async function resolveDriver(name: string, options: DriverOptions = {}): Promise<SandboxDriver> {
  const factory = Object.hasOwn(DRIVER_FACTORIES, name) ? DRIVER_FACTORIES[name] : undefined;
  if (!factory)
    throw new WarrenError('driver-unavailable', `Unknown sandbox driver "${name}"`, {
      hint: `Choose one of: ${DRIVER_NAMES.join(', ')}.`,
    });
  const driver = factory(options);
  const availability = await driver.available();
  if (!availability.ok)
    throw new WarrenError('missing-dependency', `${availability.reason}: ${availability.install}`, {
      hint: availability.install,
    });
  return driver;
}
