"""Voluntary disclosure: data vault, purposes, consents, the access gate and the Merkle consent ledger.

Reacts to other modules through events only; never imports leadership or engagement.
"""
