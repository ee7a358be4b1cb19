"""slotgen: schema -> validated model -> per-target layout -> rendered files."""
