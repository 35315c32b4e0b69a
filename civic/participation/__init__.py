"""Consultations, phases, proposals, supports and comments (the participation issue)."""
