"""``apitwin fuzz``: schemathesis against a live base URL, within a hard request budget."""
