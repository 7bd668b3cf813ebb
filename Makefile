# Thin wrapper over CMake; every target builds into build/.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=
QUICK ?= 0

.PHONY: all configure test datasets experiments plots bench install \
        clean deps sanitize

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@if [ ! -f $(BUILD)/CMakeCache.txt ]; then \
	    cmake -S . -B $(BUILD) $(CMAKE_FLAGS); fi

deps:
	scripts/install-deps

test: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	scripts/run-tests $(BUILD)

sanitize:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DISB_SANITIZE=ON"

datasets: deps
	datasets/fetch mnist
	datasets/fetch fashion-mnist

experiments: deps datasets all
	scripts/experiments QUICK=$(QUICK)

plots:
	scripts/plots

bench: deps all
	@for b in bench/*.c; do n=$$(basename $$b .c); \
	    echo "== $$n"; $(BUILD)/$$n || exit 1; done

# make install [PREFIX=/some/where] (default /usr/local)
install: all
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD) build-asan
