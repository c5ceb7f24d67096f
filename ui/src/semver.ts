// Just enough semver for the create-snapshot dialog's preview and checks.
// The backend decides; this only lets the form say what will happen.

import type { Bump } from './bindings/Bump';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  pre: string;
}

const PATTERN = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseVersion(text: string): Version | null {
  const m = PATTERN.exec(text.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ?? '' };
}

export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor}.${v.patch}${v.pre ? `-${v.pre}` : ''}`;
}

/** Negative when a < b, 0 when equal, positive when a > b (pre-releases sort first). */
export function compareVersions(a: Version, b: Version): number {
  if (a.major !== b.major) return a.major - b.major;
  if (a.minor !== b.minor) return a.minor - b.minor;
  if (a.patch !== b.patch) return a.patch - b.patch;
  if (a.pre === b.pre) return 0;
  if (!a.pre) return 1;
  if (!b.pre) return -1;
  return a.pre < b.pre ? -1 : 1;
}

/** The version a bump of `latest` gives (0.1.0 as the first minor). */
export function bumpVersion(latest: Version | null, bump: Bump): Version {
  const base = latest ?? { major: 0, minor: 0, patch: 0, pre: '' };
  switch (bump) {
    case 'major':
      return { major: base.major + 1, minor: 0, patch: 0, pre: '' };
    case 'minor':
      return { major: base.major, minor: base.minor + 1, patch: 0, pre: '' };
    case 'patch':
      return { major: base.major, minor: base.minor, patch: base.patch + 1, pre: '' };
  }
}
