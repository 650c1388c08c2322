"""技术合同: contracts signed through matches."""
