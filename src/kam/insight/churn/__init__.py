"""Churn: what counts as churn, the nightly detection, the mark "moved to a competitor", the
events list and the churn rates with their breakdowns."""
