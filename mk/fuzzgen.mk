# The generator's long property and hostile-input campaign. `make test-codegen`
# already runs the same tests with the bounded profile (a few hundred examples).

# Hypothesis examples per property test in the long campaign.
FUZZ_GEN_EXAMPLES ?= 3000

.PHONY: fuzz-gen
fuzz-gen: $(GEN)/.stamp
	@mkdir -p $(BUILD)/hypothesis
	METASLOT_HYPOTHESIS_PROFILE=long METASLOT_HYPOTHESIS_EXAMPLES=$(FUZZ_GEN_EXAMPLES) \
		$(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_FLAGS) \
		tests/codegen/test_properties.py tests/codegen/test_hostile.py
