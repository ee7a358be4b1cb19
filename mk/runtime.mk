# The runtime allocator (runtime/): the hosted library, its Check suites,
# sanitizer builds, the freestanding compile check, the layout-independence
# check and the benchmark.  Included by the top-level Makefile, which defines
# CC, BUILD, GEN, WARN and CSTD.
#
#   make runtime        build/runtime/libmetaslot.a (hosted)
#   make test-runtime   Check suites (MS_MAX_ORDER 10 and 18), freestanding build,
#                       metadata-access lint
#   make test-layout    the suites against a generated header with a shifted layout
#   make test-sanitize  ASan+UBSan build of every suite, TSan build of "stress"
#   make bench          optimised gcc and clang builds; table + build/bench/results.json

# Directory holding meta_slot.h (e.g. a header generated from another schema).
RUNTIME_GEN_INC ?= $(GEN)
# Output directory of the runtime builds.
RUNTIME_OUT ?= $(BUILD)/runtime
# Compilers the benchmark is built and run with.
RUNTIME_BENCH_CCS ?= gcc clang
# Extra arguments to the benchmark (e.g. --quick).
RUNTIME_BENCH_ARGS ?=
# Operations per stress thread in the sanitizer builds (TSan runs under
# `setarch -R`: it fails to start on hosts with large mmap randomisation).
RUNTIME_SAN_STRESS_OPS ?= 200000

# Objects need the generated header first (not when built against another one).
RUNTIME_GEN_DEP := $(if $(filter $(GEN),$(RUNTIME_GEN_INC)),$(GEN)/.stamp)

RUNTIME_LIB_SRCS := $(sort $(wildcard runtime/*.c))
RUNTIME_HOSTED_SRCS := $(sort $(wildcard runtime/hosted/*.c))
RUNTIME_TEST_SRCS := $(sort $(wildcard tests/runtime/*.c))
RUNTIME_BENCH_SRCS := $(sort $(wildcard bench/*.c))

RUNTIME_CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
RUNTIME_CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
# Expanded in the runners' recipes: stops there, not when other targets build.
RUNTIME_NEED_CHECK = $(if $(RUNTIME_CHECK_LIBS),,$(error Check not found: apt-get install --no-install-recommends check pkg-config))

RUNTIME_CPPFLAGS := -Iruntime/include -Iruntime -I$(RUNTIME_GEN_INC)
RUNTIME_CPPFLAGS += -D_POSIX_C_SOURCE=200809L
RUNTIME_CFLAGS := $(CSTD)
RUNTIME_CFLAGS += $(WARN)
RUNTIME_CFLAGS += -g
RUNTIME_CFLAGS += -MMD -MP

RUNTIME_SAN_ASAN := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
RUNTIME_SAN_TSAN := -O1 -fsanitize=thread

# The kernel's code generation, for the freestanding compile check.
RUNTIME_FREESTANDING := -O2 -ffreestanding -nostdlib -fno-pic -mno-red-zone
RUNTIME_FREESTANDING += -mgeneral-regs-only -mcmodel=kernel -fno-stack-protector

# $(call RUNTIME_VARIANT,name,compiler,flags,ldflags): objects under
# $(RUNTIME_OUT)/name, libmetaslot.a and the Check runner of that build.
define RUNTIME_VARIANT
RUNTIME_$(1)_DIR := $(RUNTIME_OUT)/$(1)
RUNTIME_$(1)_LIB_OBJS := $$(patsubst %.c,$$(RUNTIME_$(1)_DIR)/%.o,$$(RUNTIME_LIB_SRCS) $$(RUNTIME_HOSTED_SRCS))
RUNTIME_$(1)_TEST_OBJS := $$(patsubst %.c,$$(RUNTIME_$(1)_DIR)/%.o,$$(RUNTIME_TEST_SRCS))
RUNTIME_$(1)_LIB := $$(RUNTIME_$(1)_DIR)/libmetaslot.a
RUNTIME_$(1)_RUNNER := $$(RUNTIME_$(1)_DIR)/check_runtime

$$(RUNTIME_$(1)_DIR)/%.o: %.c | $$(RUNTIME_GEN_DEP)
	@mkdir -p $$(@D)
	$(2) $$(RUNTIME_CFLAGS) $(3) $$(RUNTIME_CPPFLAGS) $$(RUNTIME_CHECK_CFLAGS) -c $$< -o $$@

$$(RUNTIME_$(1)_LIB): $$(RUNTIME_$(1)_LIB_OBJS)
	rm -f $$@
	ar rcs $$@ $$^

$$(RUNTIME_$(1)_RUNNER): $$(RUNTIME_$(1)_TEST_OBJS) $$(RUNTIME_$(1)_LIB)
	$$(RUNTIME_NEED_CHECK)$(2) $(3) $(4) -o $$@ $$(RUNTIME_$(1)_TEST_OBJS) $$(RUNTIME_$(1)_LIB) $$(RUNTIME_CHECK_LIBS)

-include $$(RUNTIME_$(1)_LIB_OBJS:.o=.d) $$(RUNTIME_$(1)_TEST_OBJS:.o=.d)
endef

$(eval $(call RUNTIME_VARIANT,hosted,$(CC),-O2,))
$(eval $(call RUNTIME_VARIANT,asan,$(CC),$(RUNTIME_SAN_ASAN),))
$(eval $(call RUNTIME_VARIANT,tsan,$(CC),$(RUNTIME_SAN_TSAN),))
# The largest buddy order, with the per-CPU caches holding order 0 only.
$(eval $(call RUNTIME_VARIANT,order18,$(CC),-O2 -DMS_MAX_ORDER=18 -DMS_PCP_MAX_ORDER=0,))

RUNTIME_LIB := $(RUNTIME_OUT)/libmetaslot.a

$(RUNTIME_LIB): $(RUNTIME_hosted_LIB)
	cp $< $@

.PHONY: runtime
runtime: $(RUNTIME_LIB)

# Every library source compiles as a kernel compiles it (no FPU or vector
# registers), for each ABI the generated header supports, and the objects
# need nothing from outside the runtime (no libc, no libgcc): x86_64 with the
# kernel's own flags, i386 (gcc -m32) and aarch64 (clang).  One exception:
# without x87 or SSE, gcc cannot load or store 8 bytes atomically on i386 and
# calls __atomic_load_8 / __atomic_store_8, which an i386 embedder supplies
# (with cmpxchg8b, as libatomic does).
RUNTIME_FS_ALLOWED_i386 := __atomic_load_8 __atomic_store_8
RUNTIME_FS_COMMON := -O2 -ffreestanding -nostdlib -fno-pic -fno-stack-protector -mgeneral-regs-only
RUNTIME_FS_x86_64 := $(CC) $(RUNTIME_FREESTANDING)
RUNTIME_FS_i386 := $(CC) -m32 $(RUNTIME_FS_COMMON) -Wno-psabi
RUNTIME_FS_aarch64 := clang --target=aarch64-linux-gnu $(RUNTIME_FS_COMMON)
RUNTIME_FS_TARGETS := x86_64 i386 aarch64

define RUNTIME_FS_TARGET
RUNTIME_FS_$(1)_OBJS := $$(patsubst runtime/%.c,$$(RUNTIME_OUT)/freestanding-$(1)/%.o,$$(RUNTIME_LIB_SRCS))

$$(RUNTIME_OUT)/freestanding-$(1)/%.o: runtime/%.c | $$(RUNTIME_GEN_DEP)
	@mkdir -p $$(@D)
	$$(RUNTIME_FS_$(1)) $$(CSTD) $$(WARN) -MMD -MP -Iruntime/include -Iruntime -I$$(RUNTIME_GEN_INC) -c $$< -o $$@

-include $$(RUNTIME_FS_$(1)_OBJS:.o=.d)

.PHONY: test-runtime-freestanding-$(1)
test-runtime-freestanding-$(1): $$(RUNTIME_FS_$(1)_OBJS)
	@undefined="$$$$(nm -u $$^ | awk 'NF == 2 {print $$$$2}' | sort -u | \
		comm -23 - <(nm --defined-only $$^ | awk 'NF == 3 {print $$$$3}' | sort -u) | \
		comm -23 - <(printf '%s\n' $$(RUNTIME_FS_ALLOWED_$(1)) | sort -u))"; \
	if [ -n "$$$$undefined" ]; then \
		echo "runtime: freestanding $(1) build needs outside symbols:" $$$$undefined >&2; exit 1; \
	fi; \
	echo "runtime: freestanding $(1) build OK ($$(words $$^) objects, no outside symbols$$(if $$(RUNTIME_FS_ALLOWED_$(1)), but $$(RUNTIME_FS_ALLOWED_$(1))))"
endef
$(foreach target,$(RUNTIME_FS_TARGETS),$(eval $(call RUNTIME_FS_TARGET,$(target))))

.PHONY: test-runtime-freestanding
test-runtime-freestanding: $(foreach target,$(RUNTIME_FS_TARGETS),test-runtime-freestanding-$(target))

.PHONY: test-runtime-lint
test-runtime-lint: $(RUNTIME_GEN_DEP)
	@PYTHON="$(PYTHON)" GEN="$(RUNTIME_GEN_INC)" CC="$(CC)" bash tests/runtime/metadata_lint.sh

.PHONY: test-runtime
test-runtime: $(RUNTIME_hosted_RUNNER) $(RUNTIME_order18_RUNNER) test-runtime-freestanding test-runtime-lint
	$(RUNTIME_hosted_RUNNER)
	@echo "runtime: the suites again with MS_MAX_ORDER=18 MS_PCP_MAX_ORDER=0"
	MS_STRESS_OPS=200000 $(RUNTIME_order18_RUNNER)

.PHONY: test-layout
test-layout:
	+@MAKE="$(MAKE)" PYTHON="$(PYTHON)" bash tests/runtime/shifted_layout.sh

.PHONY: test-sanitize
test-sanitize: $(RUNTIME_asan_RUNNER) $(RUNTIME_tsan_RUNNER)
	CK_TIMEOUT_MULTIPLIER=10 MS_STRESS_OPS=$(RUNTIME_SAN_STRESS_OPS) $(RUNTIME_asan_RUNNER)
	CK_TIMEOUT_MULTIPLIER=20 CK_RUN_SUITE=stress MS_STRESS_OPS=$(RUNTIME_SAN_STRESS_OPS) \
		TSAN_OPTIONS=halt_on_error=1 setarch -R $(RUNTIME_tsan_RUNNER)

# The benchmark: one optimised build per compiler, each run writes its rows;
# bench/merge_results.py folds them into build/bench/results.json.
RUNTIME_BENCH_OUT := $(BUILD)/bench
RUNTIME_BENCH_CFLAGS := $(CSTD) $(WARN) -O2 -DNDEBUG -Iruntime/include -Iruntime -I$(RUNTIME_GEN_INC)
RUNTIME_BENCH_CFLAGS += -D_POSIX_C_SOURCE=200809L

$(RUNTIME_BENCH_OUT)/%/bench: $(RUNTIME_BENCH_SRCS) $(RUNTIME_LIB_SRCS) $(RUNTIME_HOSTED_SRCS) $(wildcard runtime/*.h runtime/include/metaslot/*.h bench/*.h) $(RUNTIME_GEN_INC)/meta_slot.h | $(RUNTIME_GEN_DEP)
	@mkdir -p $(@D)
	$* $(RUNTIME_BENCH_CFLAGS) -o $@ $(RUNTIME_BENCH_SRCS) $(RUNTIME_LIB_SRCS) $(RUNTIME_HOSTED_SRCS) -pthread

.PHONY: bench
bench: $(foreach cc,$(RUNTIME_BENCH_CCS),$(RUNTIME_BENCH_OUT)/$(cc)/bench)
	@for cc in $(RUNTIME_BENCH_CCS); do \
		$(RUNTIME_BENCH_OUT)/$$cc/bench --json $(RUNTIME_BENCH_OUT)/results-$$cc.json $(RUNTIME_BENCH_ARGS) || exit 1; \
	done
	$(PYTHON) bench/merge_results.py -o $(RUNTIME_BENCH_OUT)/results.json \
		$(foreach cc,$(RUNTIME_BENCH_CCS),$(RUNTIME_BENCH_OUT)/results-$(cc).json)

# The benchmark's bookkeeping (rows, ratios, speedups, JSON), at a tenth of
# the work; the figures themselves are `make bench`'s.
.PHONY: test-bench
test-bench: $(foreach cc,$(RUNTIME_BENCH_CCS),$(RUNTIME_BENCH_OUT)/$(cc)/bench)
	METASLOT_BENCH_BINS="$^" $(PYTHON) -m pytest -q -p no:cacheprovider tests/bench

TESTS += test-runtime test-layout test-sanitize test-bench
