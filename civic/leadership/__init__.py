"""Officials' leadership: grant management, moderation, public answers, scorecards.

Reacts to other modules through events only; never imports engagement or trust.
"""
