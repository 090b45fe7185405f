#!/usr/bin/env node
// `pnpm pack:packages [dir]`: the publishable packages as tarballs (default `.packed/`), which a
// project outside this repository installs with plain npm until the packages are published.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { packPackages, root } from './packages.mjs';

const destination = resolve(process.argv[2] ?? resolve(root, '.packed'));
mkdirSync(destination, { recursive: true });
const packed = await packPackages(destination);
for (const pkg of packed) console.log(`${pkg.name.padEnd(24)} ${pkg.tarball}`);
