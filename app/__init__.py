"""Nudge: in-app upgrade prompts driven by per-account usage."""
