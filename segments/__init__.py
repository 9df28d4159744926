"""Micro-segments: discovered inside each broad CRM segment, described by lift, kept stable across runs, and
exported for campaigns (opted-in customers only, suppression applied, spreadsheet-safe)."""
