"""Bulk import of results and needs from CSV / XLSX, and safe tabular export."""
