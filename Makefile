# NfsGate build entry points. `make run` and `make test` are the two commands a fresh Debian machine needs.
SHELL := /bin/bash
DOTNET ?= dotnet
CONFIG ?= Release

.PHONY: build run test unit helpers e2e deps bench clean

build:
	$(DOTNET) publish server/NfsGate.Server/NfsGate.Server.csproj -c $(CONFIG) -o out --nologo

run: build
	./out/nfsgate serve $(ARGS)

deps:
	tests/install-deps.sh

# Test helper programs (e.g. the RocksDB kill -9 helper) are started by tests as separate processes, so no test
# project references them and `dotnet test NfsGate.sln` would not build them if they are not in the solution.
helpers:
	@for p in tests/*/*.csproj; do \
		grep -q "$$(basename "$$p")" NfsGate.sln || $(DOTNET) build "$$p" -c $(CONFIG) --nologo -v q || exit 1; \
	done

unit: helpers
	$(DOTNET) test NfsGate.sln -c $(CONFIG) --nologo

e2e: build
	tests/e2e/run.sh

# Every stage runs even if an earlier one failed, so one run shows every failure; the exit status is non-zero if any failed.
test:
	@rc=0; \
	tests/install-deps.sh || rc=1; \
	$(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory build && tests/e2e/run.sh || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED"; else echo "make test: all stages passed"; fi; \
	exit $$rc

# Side by side with nfs-ganesha (perf/README.md): BENCH_QUICK=1 for smaller sizes; micro-benchmarks: perf/micro.sh.
bench: build
	perf/bench.sh

clean:
	rm -rf out
	$(DOTNET) clean NfsGate.sln --nologo -v q
