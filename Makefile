# Thin wrapper over meson for kernel developers' muscle memory: `make run`, `make check`.
BUILD    ?= build
SANITIZE ?=
ARGS     ?=
PREFIX   ?= /usr/local
DESTDIR  ?=

meson_sanitize = $(if $(SANITIZE),-Db_sanitize=$(SANITIZE) -Db_lundef=false,)

.PHONY: all deps build run check errata asan tsan install format tidy clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	@scripts/install-deps
	meson setup $(BUILD) --prefix=$(PREFIX) $(meson_sanitize)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The whole KVM suite against this host's /dev/kvm, one line per test.
run: build
	$(BUILD)/kvmrace $(ARGS)

# The project's own tests: harness unit tests plus the KVM suite in quick mode on this host, then
# the race suites inside QEMU on every kernel in $(KVMRACE_KERNELS) (scripts/check).
check: build
	scripts/check $(BUILD) -- $(ARGS)

asan:
	$(MAKE) check BUILD=build-asan SANITIZE=address,undefined

# Race scenarios fork a child that starts threads while the parent runs the test deadline
# thread; TSan refuses that unless told otherwise.
tsan:
	TSAN_OPTIONS="die_after_fork=0 $(TSAN_OPTIONS)" $(MAKE) check BUILD=build-tsan SANITIZE=thread

# Known kernel bugs against the running kernel.
errata: build
	$(BUILD)/kvmrace --errata

install: build
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --quiet

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

tidy: build
	clang-tidy -p $(BUILD) --quiet $$(git ls-files 'lib/*.cpp' 'src/*.cpp')

clean:
	rm -rf build build-asan build-tsan
