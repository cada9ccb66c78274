"""Running the mock: a server in a thread, granian, several workers, the validating proxy."""
