# Layout documentation (`make docs`) and the CI layout gate (`make layout-diff`).
# `slotgen report` and `slotgen diff` are described in README.md ("CI layout diffing").

# Revision `make layout-diff` compares $(SCHEMA) against, e.g. BASE=origin/main.
BASE ?= HEAD
# Extra `slotgen diff` flags, e.g. LAYOUT_DIFF_FLAGS='--format github --allow-breaking'.
LAYOUT_DIFF_FLAGS ?=

DOCS := $(BUILD)/docs
DOCS_OUT := $(DOCS)/layout.txt $(DOCS)/layout.md $(DOCS)/layout.svg

.PHONY: docs
docs: $(DOCS_OUT)

$(DOCS)/layout.txt: $(SCHEMA) $(CODEGEN_SRC) | $(BOOTSTRAP_STAMP)
	@mkdir -p $(@D)
	$(PYTHON) $(SLOTGEN) report $(SCHEMA) --format text -o $@

$(DOCS)/layout.md: $(SCHEMA) $(CODEGEN_SRC) | $(BOOTSTRAP_STAMP)
	@mkdir -p $(@D)
	$(PYTHON) $(SLOTGEN) report $(SCHEMA) --format markdown -o $@

$(DOCS)/layout.svg: $(SCHEMA) $(CODEGEN_SRC) | $(BOOTSTRAP_STAMP)
	@mkdir -p $(@D)
	$(PYTHON) $(SLOTGEN) report $(SCHEMA) --format svg -o $@

# The CI gate: passes when `slotgen diff` exits 0 (no change) or 4 (compatible, or
# breaking with a bumped abi_version); fails on 12 (breaking, no bump), 1 and 2.
LAYOUT_DIFF := $(PYTHON) $(SLOTGEN) diff $(LAYOUT_DIFF_FLAGS) $(BASE):$(SCHEMA) $(SCHEMA)

.PHONY: layout-diff
layout-diff: | $(BOOTSTRAP_STAMP)
	@echo '$(LAYOUT_DIFF)'
	@status=0; $(LAYOUT_DIFF) || status=$$?; \
	case $$status in \
	0|4) ;; \
	*) echo "layout-diff: slotgen diff exited with status $$status" >&2; exit $$status ;; \
	esac
