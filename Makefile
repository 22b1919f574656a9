# Thin wrapper over meson for kernel developers' muscle memory: `make run`, `make check`.
BUILD    ?= build
SANITIZE ?=
ARGS     ?=
PREFIX   ?= /usr/local
DESTDIR  ?=

meson_sanitize = $(if $(SANITIZE),-Db_sanitize=$(SANITIZE) -Db_lundef=false,)
# What the build dir was configured with; when PREFIX or SANITIZE change, `meson configure`.
make_config = prefix=$(PREFIX) sanitize=$(SANITIZE)

.PHONY: all deps configure build run check errata asan tsan install format tidy clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	@scripts/install-deps
	meson setup $(BUILD) --prefix=$(PREFIX) $(meson_sanitize)
	@echo '$(make_config)' > $(BUILD)/.make-config

configure: $(BUILD)/build.ninja
	@if [ "$$(cat $(BUILD)/.make-config 2>/dev/null)" != '$(make_config)' ]; then \
	  echo "make: $(BUILD): $(make_config) (was: $$(cat $(BUILD)/.make-config 2>/dev/null || echo unknown))"; \
	  meson configure $(BUILD) --prefix=$(PREFIX) -Db_sanitize=$(or $(SANITIZE),none) \
	    -Db_lundef=$(if $(SANITIZE),false,true) && echo '$(make_config)' > $(BUILD)/.make-config; fi

build: deps configure
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

# Race scenarios fork from a single-threaded parent (the test deadline is SIGALRM, not a
# thread), which TSan accepts; die_after_fork=0 is a guard, not a need.
tsan:
	TSAN_OPTIONS="die_after_fork=0 $(TSAN_OPTIONS)" $(MAKE) check BUILD=build-tsan SANITIZE=thread

# Known kernel bugs against the running kernel.
errata: build
	$(BUILD)/kvmrace --errata

# `sudo make install` installs what you built; it never runs apt-get or the compiler as root.
ifneq ($(SUDO_USER),)
install:
	@[ "$$(cat $(BUILD)/.make-config 2>/dev/null)" = '$(make_config)' ] || \
	  { echo "make install: $(BUILD) is not built with $(make_config): run 'make PREFIX=$(PREFIX)' first, without sudo" >&2; exit 2; }
	@[ "$$(ninja -C $(BUILD) -n 2>/dev/null | tail -1)" = "ninja: no work to do." ] || \
	  { echo "make install: $(BUILD) is out of date: run 'make' first, without sudo" >&2; exit 2; }
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild --quiet
else
install: build
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild --quiet
endif

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

tidy: build
	clang-tidy -p $(BUILD) --quiet $$(git ls-files 'lib/*.cpp' 'src/*.cpp')

clean:
	rm -rf build build-asan build-tsan
