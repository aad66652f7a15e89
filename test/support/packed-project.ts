/**
 * A user's project that installs the packed tarball with `npm install
 * --offline`. npm can only install offline what it need not resolve: the
 * project gets a lockfile whose entries come from this repository's
 * package-lock.json (whose tarballs `npm ci` has put in the npm cache), so
 * every package installed is one the repository's lockfile pins.
 */

/** One `packages` entry of a v3 package-lock.json. */
export interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/** The fields of package.json that a lockfile entry repeats. */
export interface Manifest {
  name: string;
  version: string;
  license?: string;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The entry a package at `location` gets for `name`: the nearest `node_modules/name` up the tree, as npm resolves it. */
function resolveEntry(packages: Record<string, LockEntry>, location: string, name: string): string | undefined {
  let base = location;
  for (;;) {
    const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent === -1 ? '' : base.slice(0, parent);
  }
}

/**
 * A package-lock.json for a project named `projectName` that depends on the
 * tarball (`tarballSpec`, e.g. `file:../subagents-0.1.0.tgz`) and on its
 * required peers, with every other entry copied from `repositoryLock`.
 *
 * @throws when a package it needs is not in the repository's lockfile.
 */
export function lockfileFor(
  projectName: string,
  packed: { manifest: Manifest; tarballSpec: string; integrity: string },
  repositoryLock: { packages: Record<string, LockEntry> },
): { lockfile: object; dependencies: Record<string, string> } {
  const { manifest } = packed;
  const requiredPeers = Object.entries(manifest.peerDependencies ?? {}).filter(
    ([name]) => manifest.peerDependenciesMeta?.[name]?.optional !== true,
  );
  const dependencies = Object.fromEntries([[manifest.name, packed.tarballSpec], ...requiredPeers]);
  const packages: Record<string, LockEntry> = {
    '': { name: projectName, version: '1.0.0', dependencies },
    [`node_modules/${manifest.name}`]: {
      version: manifest.version,
      resolved: packed.tarballSpec,
      integrity: packed.integrity,
      license: manifest.license,
      dependencies: manifest.dependencies,
      bin: manifest.bin,
      engines: manifest.engines,
      peerDependencies: manifest.peerDependencies,
      peerDependenciesMeta: manifest.peerDependenciesMeta,
    },
  };
  const pending = [...Object.keys(manifest.dependencies ?? {}), ...requiredPeers.map(([name]) => name)].map((name) => ({
    location: '',
    name,
  }));
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    const location = resolveEntry(repositoryLock.packages, next.location, next.name);
    const entry = location === undefined ? undefined : repositoryLock.packages[location];
    if (location === undefined || entry === undefined) {
      throw new Error(`${next.name} (needed by ${next.location || 'the project'}) is not in package-lock.json`);
    }
    if (packages[location]) continue;
    // In the user's project nothing is a devDependency.
    const { dev: _dev, devOptional: _devOptional, ...kept } = entry;
    packages[location] = kept;
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) pending.push({ location, name });
  }
  return { lockfile: { name: projectName, version: '1.0.0', lockfileVersion: 3, requires: true, packages }, dependencies };
}
