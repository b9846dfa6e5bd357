"""Ops service (being built): the operators' views of the platform. For now, only the reconciliation rules."""
