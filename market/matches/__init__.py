"""供需对接: recommended result–need matches and the agents' work on them."""
