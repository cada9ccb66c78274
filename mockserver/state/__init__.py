"""Everything the mock remembers, in memory or in Redis: key records, the journal, fault counters."""
