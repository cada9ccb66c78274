"""The mock's own control plane under `/__mock/`: health, reset, seeding, the journal, faults."""
