#!/usr/bin/env bash
# Plain shell entry point for any CI system on a self-hosted x86 runner with /dev/kvm.
# Needs: Debian 12 (or the packages scripts/install-deps lists), root or the kvm group.
# Environment (see ci/README.md): KVMRACE_PARTS, KVMRACE_KERNELS, KVMRACE_ARTIFACTS,
# KVMRACE_HOST_SLOTS, KVMRACE_REQUIRE_KVM (default 1 here).
exec "$(dirname "$0")/../.ci/run" "$@"
