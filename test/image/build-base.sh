#!/usr/bin/env bash
# Builds a local base image for the image test where no registry can be pulled from: a rootfs
# holding this machine's node and npm, the shell tools `npm run build` uses, and the libraries they
# link (found with ldd), imported with `podman import`. Prints the image name. Cached by tag.
# Usage: build-base.sh [image-name]   (needs CONTAINERS_CONF set like the test sets it)
set -euo pipefail

node_bin=$(readlink -f "$(command -v node)")
node_prefix=$(dirname "$(dirname "$node_bin")")
node_version=$("$node_bin" --version)
script_hash=$(sha256sum "$0" | cut -c1-12)
image=${1:-localhost/raftchat-test-base:node-${node_version}-${script_hash}}

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Keep the host's merged-/usr layout (/bin -> usr/bin and so on) so ldd's paths resolve inside.
for top in bin lib lib64 sbin; do
  if [ -L "/$top" ]; then ln -s "$(readlink "/$top")" "$stage/$top"; else mkdir -p "$stage/$top"; fi
done

# Copies one path into the stage, following a chain of symlinks and copying every link on the way.
copy_path() {
  local path=$1 dir name
  dir=$(readlink -f "$(dirname "$path")")
  name=$(basename "$path")
  path="$dir/$name"
  [ -e "$stage$path" ] || [ -L "$stage$path" ] && return 0
  mkdir -p "$stage$dir"
  if [ -L "$path" ]; then
    cp -P "$path" "$stage$path"
    local target
    target=$(readlink "$path")
    case $target in /*) ;; *) target="$dir/$target" ;; esac
    copy_path "$target"
  else
    cp -a "$path" "$stage$path"
  fi
}

# A binary and every shared library ldd lists for it (the dynamic loader included).
copy_binary() {
  local bin
  bin=$(command -v "$1")
  copy_path "$bin"
  ldd "$(readlink -f "$bin")" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do copy_path "$lib"; done
}

# node and npm; sh runs RUN lines and npm scripts; bash and the rest run scripts/gen-proto.sh.
for tool in node sh dash bash env cat ls cp mv rm mkdir ln chmod chown dirname basename find sort xargs id uname head tr grep sed; do
  copy_binary "$tool"
done
# Native addons (classic-level, dprint-node under ts-proto) link more of glibc than node itself does:
# take every shared library of the C and C++ runtime packages, as a glibc base image would have.
dpkg -L libc6 libstdc++6 libgcc-s1 | grep -E '\.so(\.[0-9]+)*$' | while read -r lib; do copy_path "$lib"; done
mkdir -p "$stage$node_prefix/lib/node_modules"
cp -a "$node_prefix/lib/node_modules/npm" "$stage$node_prefix/lib/node_modules/npm"
for link in npm npx; do copy_path "$node_prefix/bin/$link"; done

# The trust store this machine reaches the npm registry with, and npm's global config naming it.
mkdir -p "$stage/etc/ssl/certs" "$stage$node_prefix/etc" "$stage/tmp" "$stage/root"
cp /etc/ssl/certs/ca-certificates.crt "$stage/etc/ssl/certs/ca-certificates.crt"
printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nfund=false\naudit=false\nupdate-notifier=false\n' >"$stage$node_prefix/etc/npmrc"
chmod 1777 "$stage/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

tar -C "$stage" -cf "$stage.tar" .
podman import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' \
  --message "raftchat test base: node $node_version from $node_prefix" \
  "$stage.tar" "$image" >/dev/null
rm -f "$stage.tar"
echo "$image"
