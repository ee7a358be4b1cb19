# The generator's tests (pytest): validation rules, the three layout oracles,
# the generated header under gcc and clang, hosted and freestanding.

# pytest options (e.g. PYTEST_FLAGS='-k oracle -x').
PYTEST_FLAGS ?=

TESTS += test-codegen

.PHONY: test-codegen
test-codegen: $(GEN)/.stamp
	$(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_FLAGS) tests/codegen
