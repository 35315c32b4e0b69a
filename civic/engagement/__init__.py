"""Citizen incentives: point rules, ledger, badges with levels, leaderboards.

Reacts to other modules through events only; never imports leadership or trust.
"""
