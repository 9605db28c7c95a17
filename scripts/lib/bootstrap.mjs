// Makes a fresh checkout runnable: npm dependencies, the build, and the OS packages the tests use.
// Only node: built-ins here, since it runs before node_modules exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Run a command in the repository root, inheriting stdio; throw if it fails. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  }
}

/** npm ci when node_modules is missing or older than the lock file. */
export function ensureNodeModules() {
  const marker = `${ROOT}node_modules/.package-lock.json`;
  const lock = `${ROOT}package-lock.json`;
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.log('[bootstrap] installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

function has(command, args) {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

/** OS packages the test suite calls, each with the check that proves it is there. */
export const SYSTEM_PACKAGES = [
  {
    pkg: 'b3sum',
    why: 'BLAKE3 reference for the multihash tests',
    present: () => has('b3sum', ['--version']),
  },
  {
    pkg: 'python3-cbor2',
    why: 'independent CBOR decoder for the vectors',
    present: () => has('/usr/bin/python3', ['-c', 'import cbor2']),
  },
  {
    pkg: 'python3-cryptography',
    why: 'ChaCha20 of an independent implementation: spec/vectors/generate_lsh.py, re-run by the tests',
    present: () => has('/usr/bin/python3', ['-c', 'import cryptography']),
  },
  {
    pkg: 'awscli',
    why: 'AWS CLI v2 as an independent S3 client (SigV4) for the embedded store interop tests',
    present: () => has('/usr/bin/aws', ['--version']),
  },
  // A single-node Ceph RADOS Gateway (scripts/ceph-rgw.sh) as a real S3 server for the RGW tests.
  {
    pkg: 'ceph-mon',
    why: 'Ceph monitor for the RGW tests (scripts/ceph-rgw.sh)',
    present: () => has('ceph-mon', ['--version']),
  },
  {
    pkg: 'ceph-mgr',
    why: 'Ceph manager (optional in scripts/ceph-rgw.sh, WITH_MGR=1)',
    present: () => has('ceph-mgr', ['--version']),
  },
  {
    pkg: 'ceph-osd',
    why: 'Ceph object storage daemon for the RGW tests',
    present: () => has('ceph-osd', ['--version']),
  },
  {
    pkg: 'radosgw',
    why: 'Ceph RADOS Gateway: the S3 server of the RGW tests',
    present: () => has('radosgw', ['--version']),
  },
  {
    pkg: 'ceph-common',
    why: 'ceph and radosgw-admin for scripts/ceph-rgw.sh',
    present: () => has('ceph', ['--version']) && has('radosgw-admin', ['--version']),
  },
  {
    pkg: 'ffmpeg',
    why: 'ffmpeg and ffprobe: the packager cuts media into CMAF with them, and its tests check the result',
    present: () => has('ffmpeg', ['-version']) && has('ffprobe', ['-version']),
  },
  // GStreamer: a second independent HLS/DASH client for the origin's interop tests (playbin to fake sinks).
  {
    pkg: 'gstreamer1.0-tools',
    why: 'gst-launch-1.0 and gst-inspect-1.0 for the origin interop tests',
    present: () => has('gst-launch-1.0', ['--version']),
  },
  ...[
    ['gstreamer1.0-plugins-base', 'playbin'],
    ['gstreamer1.0-plugins-good', 'souphttpsrc'],
    ['gstreamer1.0-plugins-bad', 'dashdemux'],
    ['gstreamer1.0-libav', 'avdec_h264'],
  ].map(([pkg, element]) => ({
    pkg,
    why: `GStreamer's ${element} for playbin over HTTP (the origin interop tests)`,
    present: () => has('gst-inspect-1.0', [element]),
  })),
  {
    pkg: 'espeak-ng',
    why: 'speech for the sample session (samples/lab-session): known sentences its captions transcribe',
    present: () => has('espeak-ng', ['--version']),
  },
  {
    pkg: 'chromium',
    why: 'the browser the end-to-end tests drive (Playwright cannot download its own here)',
    present: () => has('chromium', ['--version']),
  },
  {
    pkg: 'uuid-runtime',
    why: 'uuidgen for the Ceph cluster and OSD ids in scripts/ceph-rgw.sh',
    present: () => has('uuidgen', []),
  },
];

/** Install missing OS packages with apt-get when root; otherwise fail with what to install. */
export function ensureSystemPackages(packages = SYSTEM_PACKAGES) {
  const missing = packages.filter((p) => !p.present());
  if (missing.length === 0) return;
  const names = missing.map((p) => p.pkg);
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !has('apt-get', ['--version'])) {
    throw new Error(
      `missing OS packages: ${missing.map((p) => `${p.pkg} (${p.why})`).join(', ')}; install them with: sudo apt-get install -y ${names.join(' ')}`,
    );
  }
  console.log(`[bootstrap] installing OS packages: ${names.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], { env });
  const still = missing.filter((p) => !p.present());
  if (still.length > 0) throw new Error(`apt-get did not provide: ${still.map((p) => p.pkg).join(', ')}`);
}

/** Build every workspace (turbo caches what did not change). */
export function build() {
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], {
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  });
}

/** The Node version check: 20.19 is the oldest release every dependency's engines field accepts. */
export function ensureNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19))
    throw new Error(`Node ${process.versions.node} is too old; DreamDB needs Node 20.19 or newer`);
}

export { execFileSync };
