# make install / make uninstall.  Included by the top-level Makefile, which
# defines PYTHON, BUILD, GEN, GEN_HDR, GEN_MEMBERS, GEN_JSON and SCHEMA;
# mk/docs.mk defines DOCS_OUT and mk/runtime.mk RUNTIME_LIB.
#
#   make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]
#       bin/slotgen                     runs share/metaslot/codegen/slotgen
#       include/metaslot/*.h            runtime API and the generated meta_slot.h,
#                                       meta_slot_members.h
#       lib/libmetaslot.a               the runtime (RUNTIME_LIB of mk/runtime.mk)
#       lib/pkgconfig/metaslot.pc
#       share/metaslot/                 slot.yaml, its layout JSON, doc/ (README.md
#                                       and `make docs`), the generator,
#                                       examples/embed, and the manifest
#   make uninstall [PREFIX=...] [DESTDIR=...]
#       removes exactly the files the manifest lists, then the package's own
#       directories (include/metaslot, share/metaslot) once they are empty
#   make test-install                   the install test alone (tests/codegen)

# Installation prefix.
PREFIX ?= /usr/local
# Staging root put in front of every installed path (packaging, tests).
DESTDIR ?=
# Version written into metaslot.pc.
METASLOT_VERSION ?= 0.1.0

INSTALL_ROOT = $(DESTDIR)$(PREFIX)
INSTALL_STAGE := $(BUILD)/install
INSTALL_MANIFEST := share/metaslot/install-manifest.txt
INSTALL_DATA := share/metaslot

# mk/runtime.mk is read after this file; the prerequisite $$(RUNTIME_LIB) is
# therefore expanded a second time, when every makefile has been read.
.SECONDEXPANSION:

# The layout documentation of mk/docs.mk (`make docs`).
INSTALL_DOCS = $(DOCS_OUT)

# source:destination:mode, destination relative to PREFIX.  The generator is
# installed whole (entry point, modules, templates) so that it runs from there.
install_file = $(1):$(2):$(3)
INSTALL_FILES = \
	$(call install_file,mk/slotgen-wrapper.sh,bin/slotgen,755) \
	$(call install_file,codegen/slotgen,$(INSTALL_DATA)/codegen/slotgen,755) \
	$(foreach f,$(sort $(wildcard codegen/slotgen_lib/*.py) $(wildcard codegen/templates/*.j2)),\
		$(call install_file,$(f),$(INSTALL_DATA)/$(f),644)) \
	$(foreach f,$(sort $(wildcard runtime/include/metaslot/*.h)),\
		$(call install_file,$(f),include/metaslot/$(notdir $(f)),644)) \
	$(call install_file,$(GEN_HDR),include/metaslot/$(notdir $(GEN_HDR)),644) \
	$(call install_file,$(GEN_MEMBERS),include/metaslot/$(notdir $(GEN_MEMBERS)),644) \
	$(call install_file,$(RUNTIME_LIB),lib/libmetaslot.a,644) \
	$(call install_file,$(INSTALL_STAGE)/metaslot.pc,lib/pkgconfig/metaslot.pc,644) \
	$(call install_file,$(SCHEMA),$(INSTALL_DATA)/slot.yaml,644) \
	$(call install_file,$(GEN_JSON),$(INSTALL_DATA)/$(notdir $(GEN_JSON)),644) \
	$(call install_file,README.md,$(INSTALL_DATA)/doc/README.md,644) \
	$(foreach f,$(INSTALL_DOCS),$(call install_file,$(f),$(INSTALL_DATA)/doc/$(notdir $(f)),644)) \
	$(foreach f,$(sort $(wildcard examples/embed/Makefile examples/embed/*.c examples/embed/*.yaml)),\
		$(call install_file,$(f),$(INSTALL_DATA)/$(f),644))

# PREFIX and DESTDIR go into shell commands and metaslot.pc: an absolute path
# without quotes, backslashes or other shell or sed syntax (spaces are fine).
install_hash := \#
install_bad_chars = $(strip $(foreach c,' " ` \ | & ; < > * ? [ ] $$ $(install_hash),$(if $(findstring $(c),$(1)),$(c))))
ifneq ($(filter install uninstall $(INSTALL_STAGE)/metaslot.pc,$(MAKECMDGOALS)),)
ifneq ($(call install_bad_chars,$(PREFIX)$(DESTDIR)),)
$(error PREFIX/DESTDIR may not contain $(call install_bad_chars,$(PREFIX)$(DESTDIR)); choose a plain path)
endif
ifeq ($(filter /%,$(PREFIX)),)
$(error PREFIX must be an absolute path, not '$(PREFIX)')
endif
endif
install_space := $(subst ,, )
# pkg-config's syntax for a space in a value is '\ ' (its output keeps it for the shell).
INSTALL_PC_PREFIX = $(subst $(install_space),\\ ,$(PREFIX))

# Always rewritten: it records PREFIX, which may differ from run to run.
.PHONY: $(INSTALL_STAGE)/metaslot.pc
$(INSTALL_STAGE)/metaslot.pc: mk/metaslot.pc.in
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(INSTALL_PC_PREFIX)|g' -e 's|@VERSION@|$(METASLOT_VERSION)|g' $< > $@

.PHONY: install
install: $(GEN)/.stamp $(INSTALL_STAGE)/metaslot.pc $$(RUNTIME_LIB) $$(INSTALL_DOCS)
	@test -n '$(RUNTIME_LIB)' || { echo 'install: RUNTIME_LIB is not defined: mk/runtime.mk' \
		'builds the runtime library; run make install RUNTIME_LIB=path/to/libmetaslot.a' >&2; \
		exit 1; }
	@set -e; root='$(INSTALL_ROOT)'; list='$(INSTALL_STAGE)/manifest'; : > "$$list"; \
	for entry in $(INSTALL_FILES); do \
		src=$${entry%%:*}; rest=$${entry#*:}; dst=$${rest%:*}; mode=$${rest##*:}; \
		install -D -m "$$mode" "$$src" "$$root/$$dst"; \
		echo "$$dst" >> "$$list"; \
	done; \
	echo '$(INSTALL_MANIFEST)' >> "$$list"; \
	install -D -m 644 "$$list" "$$root/$(INSTALL_MANIFEST)"; \
	echo "install: $$(wc -l < "$$list") files under $$root (manifest: $(INSTALL_MANIFEST))"

.PHONY: uninstall
uninstall:
	@set -e; root='$(INSTALL_ROOT)'; manifest="$$root/$(INSTALL_MANIFEST)"; \
	if [ ! -f "$$manifest" ]; then echo "uninstall: nothing to do: no $$manifest"; exit 0; fi; \
	files=$$(cat "$$manifest"); \
	for f in $$files; do rm -f "$$root/$$f"; done; \
	for d in $$(for f in $$files; do dirname "$$f"; done | sort -ru); do \
		while :; do \
			case $$d in include/metaslot|include/metaslot/*|$(INSTALL_DATA)|$(INSTALL_DATA)/*) ;; \
			*) break ;; esac; \
			rmdir "$$root/$$d" 2>/dev/null || break; \
			d=$$(dirname "$$d"); \
		done; \
	done; \
	echo "uninstall: removed $$(echo "$$files" | wc -l) files under $$root"

.PHONY: test-install
test-install: $(GEN)/.stamp
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/codegen/test_install.py
