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

# scripts/experiments runs its own steps in order: deps, datasets, build,
# sweeps, variance, reports, figures.
experiments:
	scripts/experiments QUICK=$(QUICK)

plots:
	scripts/plots

# One program (bench/*.c): prints a table, writes bench/results.csv.
# ISB_BENCH_REPS=N sets the repetitions; ISBENCH_DATA the MNIST folder
# for the memory figure (skipped without it).
bench:
	scripts/install-deps --bench
	$(MAKE) all
	$(BUILD)/bench --isbench $(BUILD)/isbench

# make install [PREFIX=/some/where] (default /usr/local)
install: all
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD) build-asan
