"""Revisit and confirmation callbacks: which calls need one, when, and what closing one does."""
