"""Contract-testing toolkit for Portkey's virtual-keys API: checks clients and services against it."""
