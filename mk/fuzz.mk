# Allocator fuzzing (tests/fuzz/).  The fault-injection suite
# (tests/runtime/check_faults.c) runs in the runtime's Check runner.
# Included by the top-level Makefile, which defines CC, BUILD, GEN, WARN and CSTD.
#
#   make test-fuzz    the libFuzzer target for FUZZ_TEST_SECONDS (default 60)
#                     over the seed corpus plus new inputs; prints execs/s and
#                     coverage from libFuzzer's final stats (part of `make test`)
#   make fuzz         the same for FUZZ_SECONDS (default 3600) on FUZZ_JOBS jobs
#   make fuzz-small   `make fuzz` on a build with tiny limits (MS_MAX_ORDER 3,
#                     4-frame per-CPU caches, 2 CPUs, 3 ranges): full caches,
#                     the order cap and the range limit on every input
#   make fuzz-merge   minimises the new inputs into the seed corpus
#
# A failing input is written to build/fuzz/artifacts/; replay it with
#   FUZZ_TRACE=1 build/fuzz/fuzz_alloc build/fuzz/artifacts/crash-...

# clang with libFuzzer (Debian: clang-14 and libclang-rt-14-dev).
FUZZ_CC ?= clang
# Seconds of the bounded run in `make test`.
FUZZ_TEST_SECONDS ?= 60
# Seconds of `make fuzz`.
FUZZ_SECONDS ?= 3600
# Parallel fuzzing jobs of `make fuzz`.
FUZZ_JOBS ?= 1
# Extra libFuzzer flags (e.g. FUZZ_FLAGS='-max_len=8192 -seed=1').
FUZZ_FLAGS ?=

FUZZ_OUT := $(BUILD)/fuzz
FUZZ_BIN := $(FUZZ_OUT)/fuzz_alloc
FUZZ_SEEDS := tests/fuzz/corpus
FUZZ_WORK := $(FUZZ_OUT)/corpus
FUZZ_RUN := tests/fuzz/run-fuzz
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/*.c))
FUZZ_RT_SRCS := $(sort $(wildcard runtime/*.c)) runtime/hosted/platform_hosted.c
FUZZ_OBJS := $(patsubst %.c,$(FUZZ_OUT)/%.o,$(FUZZ_SRCS) $(FUZZ_RT_SRCS))

FUZZ_CFLAGS := $(CSTD)
FUZZ_CFLAGS += -D_POSIX_C_SOURCE=200809L
FUZZ_CFLAGS += $(WARN)
FUZZ_CFLAGS += -g -O1
FUZZ_CFLAGS += -fno-omit-frame-pointer
FUZZ_CFLAGS += -fsanitize=address,undefined
FUZZ_CFLAGS += -fno-sanitize-recover=all
FUZZ_CFLAGS += -MMD -MP
FUZZ_CPPFLAGS := -Iruntime/include -I$(GEN)
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined

# Coverage feedback: everywhere but the model and the whole-instance checks,
# whose loops would only slow the search; no comparison tracing in ms_check.
FUZZ_COV := -fsanitize=fuzzer-no-link
FUZZ_NOCOV := tests/fuzz/model.o tests/fuzz/fuzz_checks.o
$(addprefix $(FUZZ_OUT)/,$(FUZZ_NOCOV)) $(addprefix $(FUZZ_OUT)/small/,$(FUZZ_NOCOV)): FUZZ_COV :=
$(FUZZ_OUT)/runtime/check.o $(FUZZ_OUT)/small/runtime/check.o: FUZZ_COV += -fno-sanitize-coverage=trace-cmp

FUZZ_HAVE_CC := $(shell command -v $(FUZZ_CC) 2>/dev/null)

$(FUZZ_OUT)/%.o: %.c | $(GEN)/.stamp
	@$(if $(FUZZ_HAVE_CC),,echo "$(FUZZ_CC) not found: apt-get install --no-install-recommends clang libclang-rt-14-dev" >&2; exit 1)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_COV) $(FUZZ_CPPFLAGS) -c $< -o $@

$(FUZZ_BIN): $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $^ -o $@

.PHONY: fuzz-build
fuzz-build: $(FUZZ_BIN)

TESTS += test-fuzz

.PHONY: test-fuzz
test-fuzz: $(FUZZ_BIN)
	@FUZZ_OUT=$(FUZZ_OUT) bash $(FUZZ_RUN) $(FUZZ_BIN) $(FUZZ_TEST_SECONDS) 1 \
		$(FUZZ_WORK) $(FUZZ_SEEDS) -- $(FUZZ_FLAGS)

.PHONY: fuzz
fuzz: $(FUZZ_BIN)
	@FUZZ_OUT=$(FUZZ_OUT) bash $(FUZZ_RUN) $(FUZZ_BIN) $(FUZZ_SECONDS) $(FUZZ_JOBS) \
		$(FUZZ_WORK) $(FUZZ_SEEDS) -- $(FUZZ_FLAGS)

# The same target and runtime with tiny build-time limits.
FUZZ_SMALL_OUT := $(FUZZ_OUT)/small
FUZZ_SMALL_BIN := $(FUZZ_SMALL_OUT)/fuzz_alloc
FUZZ_SMALL_DEFINES := -DMS_MAX_ORDER=3 -DMS_PCP_CAPACITY=4 -DMS_PCP_BATCH=2 -DMS_MAX_CPUS=2 \
                      -DMS_MAX_RANGES=3
FUZZ_SMALL_OBJS := $(patsubst %.c,$(FUZZ_SMALL_OUT)/%.o,$(FUZZ_SRCS) $(FUZZ_RT_SRCS))

$(FUZZ_SMALL_OUT)/%.o: %.c | $(GEN)/.stamp
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SMALL_DEFINES) $(FUZZ_COV) $(FUZZ_CPPFLAGS) -c $< -o $@

$(FUZZ_SMALL_BIN): $(FUZZ_SMALL_OBJS)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $^ -o $@

.PHONY: fuzz-small
fuzz-small: $(FUZZ_SMALL_BIN)
	@FUZZ_OUT=$(FUZZ_SMALL_OUT) bash $(FUZZ_RUN) $(FUZZ_SMALL_BIN) $(FUZZ_SECONDS) $(FUZZ_JOBS) \
		$(FUZZ_SMALL_OUT)/corpus $(FUZZ_SEEDS) -- $(FUZZ_FLAGS)

.PHONY: fuzz-merge
fuzz-merge: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_WORK)
	$(FUZZ_BIN) -merge=1 $(FUZZ_SEEDS) $(FUZZ_WORK)

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_SMALL_OBJS:.o=.d)
