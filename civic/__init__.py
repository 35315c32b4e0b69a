"""civic: a Gov 2.0 civic participation platform."""

__version__ = "0.1.0"
