#!/usr/bin/env bash
# Builds `egress` and `egress-scanner` and installs them side by side in PREFIX/bin (the proxy finds
# its scanner next to itself), with the example routes file in PREFIX/share/egress. The Dockerfile's
# build stage and the network-namespace test (Tests/FrontendTests/SidecarTopologyTests.swift) both
# install through this script, so the image holds what the test ran.
#
#   scripts/install.sh [--configuration release|debug] [--prefix DIR] [--static-swift-stdlib] [--strip]
#   scripts/install.sh --from BUILD_DIR [--prefix DIR]     # install binaries already built in BUILD_DIR
#
# Defaults: release, /usr/local. Needs the build packages of scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=release
prefix=/usr/local
from=""
strip=()
build_flags=()
while (($#)); do
    case "$1" in
        --configuration)
            [ $# -ge 2 ] || { echo "install: --configuration needs release or debug" >&2; exit 1; }
            configuration=$2
            shift 2
            ;;
        --prefix)
            [ $# -ge 2 ] || { echo "install: --prefix needs a directory" >&2; exit 1; }
            prefix=$2
            shift 2
            ;;
        --from)
            [ $# -ge 2 ] || { echo "install: --from needs a build directory" >&2; exit 1; }
            from=$2
            shift 2
            ;;
        --strip)
            # Debug symbols off the installed copies (halves the image's binaries).
            strip=(-s)
            shift
            ;;
        --static-swift-stdlib)
            # The runtime image then needs no Swift libraries, only libc, libstdc++ and the C libraries.
            build_flags+=(--static-swift-stdlib)
            shift
            ;;
        *)
            echo "install: unknown argument: $1 (see the comment at the top of scripts/install.sh)" >&2
            exit 1
            ;;
    esac
done
case "$configuration" in
    release | debug) ;;
    *) echo "install: --configuration must be release or debug, not '$configuration'" >&2; exit 1 ;;
esac

if [ -z "$from" ]; then
    for product in egress egress-scanner; do
        swift build -c "$configuration" ${build_flags[@]+"${build_flags[@]}"} --product "$product"
    done
    from=$(swift build -c "$configuration" ${build_flags[@]+"${build_flags[@]}"} --show-bin-path)
fi
for binary in egress egress-scanner; do
    [ -x "$from/$binary" ] || { echo "install: $from/$binary is missing or not executable" >&2; exit 1; }
done

install -d -m 0755 "$prefix/bin" "$prefix/share/egress"
install ${strip[@]+"${strip[@]}"} -m 0755 "$from/egress" "$from/egress-scanner" "$prefix/bin/"
install -m 0644 examples/routes.yaml "$prefix/share/egress/routes.example.yaml"
# The installed binary must run where it was put (libraries found, catalog compiled).
"$prefix/bin/egress" check --routes "$prefix/share/egress/routes.example.yaml" >/dev/null
echo "installed egress and egress-scanner in $prefix/bin"
