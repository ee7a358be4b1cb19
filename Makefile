# metaslot: one schema (layout/slot.yaml) -> generated C11 header -> runtime -> kernel.
# `make run` boots the kernel under QEMU; `make test` runs every test.  See README.md.

MAKEFLAGS += -rR
.SUFFIXES:
.DELETE_ON_ERROR:
SHELL := /bin/bash

# Python interpreter that sees Debian's python3-yaml/jinja2/pycparser/pytest.
PYTHON ?= /usr/bin/python3
# C compiler for hosted builds (runtime, tests, benchmarks).
CC ?= gcc
# QEMU binary used to boot the kernel.
QEMU ?= qemu-system-x86_64
# Guest memory for `make run` / `make shell`.
QEMU_MEM ?= 256M
# Extra QEMU flags.
QEMUFLAGS ?=
# The schema every build output is generated from.
SCHEMA ?= layout/slot.yaml

ifeq ($(origin CC),default)
CC := gcc
endif

BUILD := build
GEN := $(BUILD)/gen
SLOTGEN := codegen/slotgen
CODEGEN_SRC := $(SLOTGEN) $(wildcard codegen/slotgen_lib/*.py) $(wildcard codegen/templates/*.j2)
GEN_HDR := $(GEN)/meta_slot.h
GEN_MEMBERS := $(GEN)/meta_slot_members.h
GEN_JSON := $(GEN)/meta_slot.layout.json
GEN_OUT := $(GEN_HDR) $(GEN_MEMBERS) $(GEN_JSON)

# Warnings every C build uses.
WARN := -Wall -Wextra -Wpedantic -Werror
CSTD := -std=c11

.PHONY: all
all: gen

# Bootstrap: install missing Debian packages (quiet when all is present).
# One stamp per interpreter: another PYTHON is checked again.
BOOTSTRAP_STAMP := $(BUILD)/.bootstrap-ok-$(shell printf '%s' '$(PYTHON)' | md5sum | cut -c1-8)
$(BOOTSTRAP_STAMP): scripts/bootstrap
	@PYTHON=$(PYTHON) bash scripts/bootstrap
	@mkdir -p $(@D) && touch $@

.PHONY: bootstrap
bootstrap:
	@PYTHON=$(PYTHON) bash scripts/bootstrap

# Generated headers depend on the schema, the generator and its templates.
# slotgen leaves an unchanged file untouched, so the stamp keeps make honest.
$(GEN)/.stamp: $(SCHEMA) $(CODEGEN_SRC) | $(BOOTSTRAP_STAMP)
	@mkdir -p $(GEN)
	$(PYTHON) $(SLOTGEN) generate $(SCHEMA) -o $(GEN)
	@touch $@
$(GEN_OUT): $(GEN)/.stamp

.PHONY: gen
gen: $(GEN)/.stamp

.PHONY: check
check: | $(BOOTSTRAP_STAMP)
	$(PYTHON) $(SLOTGEN) check $(SCHEMA)

# Each area's rules; an area adds its test target to TESTS.
TESTS :=
include $(sort $(wildcard mk/*.mk))

# `make` alone: the generated headers, the runtime library and the kernel.
all: runtime kernel

# The README's test command: every area's tests, in order.
.PHONY: test
test: $(TESTS)

.PHONY: clean
clean:
	rm -rf $(BUILD) .hypothesis codegen/slotgen_lib/__pycache__ tests/*/__pycache__

# `make -j clean all`: nothing may build while clean deletes.
ifneq ($(filter clean,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif
