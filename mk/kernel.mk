# The x86_64 kernel (kernel/), booted under QEMU.  Included by the top-level
# Makefile, which defines CC, PYTHON, QEMU, QEMU_MEM, QEMUFLAGS, BUILD, GEN,
# WARN and CSTD.
#
#   make kernel       build/kernel/metaslot.elf (ELF64) and metaslot32.elf
#                     (the ELF32 copy QEMU's Multiboot loader accepts)
#   make run          build and boot with QEMU_MEM; status 0 iff every
#                     self-test passed
#   make shell        boot into the serial shell
#   make test-kernel  boot tests at 64M/512M/5G, wrong-header, crash and
#                     shell tests (tests/kernel/)

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
KERNEL_OBJS := $(KERNEL_S_SRCS:kernel/%.S=$(KERNEL_OUT)/%.o) \
               $(KERNEL_C_SRCS:kernel/%.c=$(KERNEL_OUT)/%.o)

# Freestanding code generation shared by the kernel and the runtime it links.
KERNEL_CFLAGS := $(CSTD)
KERNEL_CFLAGS += $(WARN)
KERNEL_CFLAGS += -O2 -g
KERNEL_CFLAGS += -ffreestanding
KERNEL_CFLAGS += -fno-pie -fno-pic
KERNEL_CFLAGS += -mno-red-zone
KERNEL_CFLAGS += -mgeneral-regs-only
KERNEL_CFLAGS += -mcmodel=small
KERNEL_CFLAGS += -fno-stack-protector
KERNEL_CFLAGS += -fno-asynchronous-unwind-tables
KERNEL_CFLAGS += -fno-omit-frame-pointer
KERNEL_CFLAGS += -MMD -MP
KERNEL_CPPFLAGS := -Ikernel -I$(KERNEL_GEN_INC)
KERNEL_LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack -T $(KERNEL_LDSCRIPT)
KERNEL_LIBGCC := $(shell $(CC) -print-libgcc-file-name)

# Objects need the generated headers first (not when built against another
# header directory, e.g. KERNEL_GEN_INC=/tmp/somewhere).
KERNEL_GEN_DEP := $(if $(filter $(GEN),$(KERNEL_GEN_INC)),$(GEN)/.stamp)

$(KERNEL_OUT)/%.o: kernel/%.c $(KERNEL_GEN_DEP)
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) $(KERNEL_CPPFLAGS) -c $< -o $@

$(KERNEL_OUT)/%.o: kernel/%.S
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) $(KERNEL_CPPFLAGS) -c $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) $(KERNEL_LDSCRIPT)
	ld $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(KERNEL_LIBGCC)

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
