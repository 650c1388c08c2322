"""The transactional outbox: listing changes recorded with the change, relayed to search and matching."""
