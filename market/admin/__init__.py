"""Platform operators: review queue and organisation verification."""
