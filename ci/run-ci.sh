#!/usr/bin/env bash
# Plain shell entry point for any CI system on a self-hosted x86 runner with /dev/kvm.
# Needs: Debian 12 (or the packages scripts/install-deps lists), root or the kvm group.
exec "$(dirname "$0")/../.ci/run" "$@"
