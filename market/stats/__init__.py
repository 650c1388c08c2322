"""Statistics: contracts, 技术交易额, the conversion funnel, agents."""
