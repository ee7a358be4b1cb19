# The x86_64 kernel (kernel/), booted under QEMU.  Included by the top-level
# Makefile, which defines CC, PYTHON, QEMU, QEMU_MEM, QEMUFLAGS, BUILD, GEN,
# WARN and CSTD.
#
#   make kernel       build/kernel/metaslot.elf (ELF64) and metaslot32.elf
#                     (the ELF32 copy QEMU's Multiboot loader accepts)
#   make run          build and boot with QEMU_MEM; status 0 iff every
#                     self-test passed
#   make shell        boot into the serial shell
#   make test-kernel  boot tests at 64M/512M/5G (and 64M built with clang),
#                     wrong-header, crash, timeout and shell tests
#                     (tests/kernel/); transcripts in build/kernel/logs/

# Directory holding meta_slot.h and meta_slot_members.h.
KERNEL_GEN_INC ?= $(GEN)
# Seconds before a QEMU run started by make is killed.
KERNEL_QEMU_TIMEOUT ?= 120

KERNEL_OUT := $(BUILD)/kernel
KERNEL_ELF := $(KERNEL_OUT)/metaslot.elf
KERNEL_IMAGE := $(KERNEL_OUT)/metaslot32.elf
KERNEL_LDSCRIPT := kernel/linker.ld
KERNEL_RUN := kernel/qemu-run

KERNEL_C_SRCS := $(sort $(wildcard kernel/*.c))
KERNEL_S_SRCS := $(sort $(wildcard kernel/*.S))
# The runtime allocator, compiled unchanged with the kernel's flags.
KERNEL_RT_SRCS := $(sort $(wildcard runtime/*.c runtime/src/*.c))
KERNEL_RT_OBJS := $(patsubst runtime/%.c,$(KERNEL_OUT)/runtime/%.o,$(KERNEL_RT_SRCS))
KERNEL_OBJS := $(KERNEL_S_SRCS:kernel/%.S=$(KERNEL_OUT)/%.o) \
               $(KERNEL_C_SRCS:kernel/%.c=$(KERNEL_OUT)/%.o) \
               $(KERNEL_RT_OBJS)

# Freestanding code generation shared by the kernel and the runtime it links.
KERNEL_CFLAGS := $(CSTD)
KERNEL_CFLAGS += $(WARN)
KERNEL_CFLAGS += -O2
KERNEL_CFLAGS += -g
KERNEL_CFLAGS += -ffreestanding
KERNEL_CFLAGS += -fno-pie -fno-pic
KERNEL_CFLAGS += -mno-red-zone
KERNEL_CFLAGS += -mgeneral-regs-only
KERNEL_CFLAGS += -mcmodel=small
KERNEL_CFLAGS += -fno-stack-protector
KERNEL_CFLAGS += -fno-asynchronous-unwind-tables
KERNEL_CFLAGS += -fno-omit-frame-pointer
KERNEL_CFLAGS += -MMD -MP
KERNEL_CPPFLAGS := -Ikernel -Iruntime/include -I$(KERNEL_GEN_INC)
KERNEL_LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack -T $(KERNEL_LDSCRIPT)

# Objects need the generated headers to exist first (order-only: -MMD tracks
# their contents, and slotgen leaves unchanged headers untouched).  Not
# when built against another header directory (the wrong-header variant).
KERNEL_GEN_DEP := $(if $(filter $(GEN),$(KERNEL_GEN_INC)),$(GEN)/.stamp)

$(KERNEL_OUT)/%.o: kernel/%.c | $(KERNEL_GEN_DEP)
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) $(KERNEL_CPPFLAGS) -c $< -o $@

$(KERNEL_OUT)/runtime/%.o: runtime/%.c | $(KERNEL_GEN_DEP)
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -Iruntime/include -I$(KERNEL_GEN_INC) -c $< -o $@

$(KERNEL_OUT)/%.o: kernel/%.S
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) $(KERNEL_CPPFLAGS) -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) $(KERNEL_LDSCRIPT)
	ld $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)

$(KERNEL_IMAGE): $(KERNEL_ELF)
	objcopy -O elf32-i386 $< $@

.PHONY: kernel
kernel: $(KERNEL_IMAGE)

.PHONY: run
run: $(KERNEL_IMAGE)
	QEMU=$(QEMU) $(KERNEL_RUN) $(KERNEL_IMAGE) $(QEMU_MEM) $(KERNEL_QEMU_TIMEOUT) $(QEMUFLAGS)

.PHONY: shell
shell: $(KERNEL_IMAGE)
	QEMU=$(QEMU) $(KERNEL_RUN) $(KERNEL_IMAGE) $(QEMU_MEM) 3600 -append shell $(QEMUFLAGS)

-include $(KERNEL_OBJS:.o=.d)

# ---- tests ----------------------------------------------------------------

# A kernel compiled against a header whose struct differs from the schema
# (tests/kernel/make_wrong_header.py); its boot layout check must fail.
KERNEL_WRONG_OUT := $(BUILD)/kernel-wrong
KERNEL_WRONG_GEN := $(KERNEL_WRONG_OUT)/gen
KERNEL_WRONG_IMAGE := $(KERNEL_WRONG_OUT)/metaslot32.elf
KERNEL_TEST_LOGS := $(KERNEL_OUT)/logs

$(KERNEL_WRONG_GEN)/meta_slot.h: $(GEN)/.stamp tests/kernel/make_wrong_header.py
	$(PYTHON) tests/kernel/make_wrong_header.py $(GEN) $(KERNEL_WRONG_GEN)

.PHONY: kernel-wrong-header
kernel-wrong-header: $(KERNEL_WRONG_GEN)/meta_slot.h
	@$(MAKE) --no-print-directory kernel KERNEL_GEN_INC=$(KERNEL_WRONG_GEN) \
		KERNEL_OUT=$(KERNEL_WRONG_OUT)

# The same kernel built with clang (warnings are errors there too).
KERNEL_CLANG_OUT := $(BUILD)/kernel-clang
KERNEL_CLANG_IMAGE := $(KERNEL_CLANG_OUT)/metaslot32.elf

.PHONY: kernel-clang
kernel-clang: | $(GEN)/.stamp
	@command -v clang >/dev/null || { echo "kernel-clang: clang missing; install it with: apt-get install --no-install-recommends clang" >&2; exit 1; }
	@$(MAKE) --no-print-directory kernel CC=clang KERNEL_OUT=$(KERNEL_CLANG_OUT)

TESTS += test-kernel

.PHONY: test-kernel
test-kernel: $(KERNEL_IMAGE) kernel-wrong-header kernel-clang
	@rm -rf $(KERNEL_TEST_LOGS) && mkdir -p $(KERNEL_TEST_LOGS)
	KERNEL_IMAGE=$(KERNEL_IMAGE) KERNEL_WRONG_IMAGE=$(KERNEL_WRONG_IMAGE) \
	KERNEL_CLANG_IMAGE=$(KERNEL_CLANG_IMAGE) \
	KERNEL_LOG_DIR=$(KERNEL_TEST_LOGS) QEMU=$(QEMU) \
		$(PYTHON) -m pytest -q -p no:cacheprovider tests/kernel
	@cat $(KERNEL_TEST_LOGS)/timings.txt
