"""Shared fixtures of the API tests: personas, their clients, and one small scene."""
