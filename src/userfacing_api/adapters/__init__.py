"""Implementations of the ports for real infrastructure."""
